"""A realistic lead export for the import benchmark: what a CRM or a purchased list looks like.

    .venv/bin/python bench/import_file.py /tmp/imp/leads.csv --rows 1000000

Columns as another CRM exports them ("First Name", "E-mail Address", "Company / Account", ...),
about 45% of rows with a phone in mixed national and international formats (some of them a shared
switchboard), 15% free-mail addresses, a history of statuses and creation dates, a notes column
that sometimes holds quoted commas and line breaks, and a column nobody maps ("Fax").
About 2% of rows are bad (a malformed email, no way to reach the person, a word where the number
of employees belongs, a country name instead of its code) and about 5% repeat an earlier person
(the same email in other capitals). Seeded: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from pathlib import Path

HEADER = [
    "First Name", "Last Name", "E-mail Address", "Phone", "Company / Account", "Job Title", "Industry",
    "No. of Employees", "Annual Revenue", "Website", "Country", "Lead Source", "Lead Status", "Created Date",
    "Notes", "Fax",
]
FIRST = ["Ada", "Bob", "Chen", "Dana", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lena", "Mia", "Nils",
         "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vik", "Wen", "Xena", "Yusuf", "Zoë"]
LAST = ["Smith", "Müller", "García", "Okafor", "Nguyen", "Kowalski", "Rossi", "Dubois", "Tanaka", "O'Brien",
        "Johansson", "Silva", "Novak", "Haddad", "Kim", "Patel"]
TITLES = ["Chief Executive Officer", "CTO", "VP of Sales", "VP Marketing", "Head of Growth", "Director of Operations",
          "IT Director", "Sales Manager", "Marketing Manager", "Account Executive", "Software Engineer", "Analyst",
          "Student", ""]
INDUSTRIES = ["Software", "Financial services", "Healthcare", "Cybersecurity", "Retail", "Manufacturing",
              "Education", "Logistics", ""]
COUNTRIES = ["US", "US", "US", "GB", "DE", "AT", "CH", "FR", "NL", "IN", "BR", "CA", ""]
SOURCES = ["Web", "Referral", "Trade show", "Website form", "", "", "Google lead form", "Other"]
STATUSES = ["New"] * 50 + ["Contacted"] * 20 + ["Qualified"] * 8 + ["Disqualified"] * 12 + ["Converted"] * 10
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]
COMPANIES = 50_000
SWITCHBOARDS = [f"+1 415 555 {i:04d}" for i in range(200)]


def phone(rng: random.Random, i: int) -> str:
    kind = rng.random()
    if kind < 0.55:
        return ""
    if kind < 0.62:
        return rng.choice(SWITCHBOARDS)
    number = 2_000_000 + (i * 7919) % 7_000_000
    area = 200 + (i % 700)
    if kind < 0.75:
        return f"({area}) {number // 10000:03d}-{number % 10000:04d}"
    if kind < 0.88:
        return f"+1{area}{number:07d}"
    if kind < 0.95:
        return f"+44 20 {number // 10000:04d} {number % 10000:04d}"
    return f"+49 30 {number:07d}"


def ascii_only(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def good_row(rng: random.Random, i: int) -> list[str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company_no = rng.randrange(COMPANIES)
    free = rng.random() < 0.15
    domain = rng.choice(FREE_MAIL) if free else f"company{company_no}.example"
    status = rng.choice(STATUSES)
    notes = ""
    if rng.random() < 0.05:
        notes = "Met at the booth, wants pricing.\nCall back after Q3, maybe, with \"the\" offer"
    elif rng.random() < 0.2:
        notes = "Downloaded the whitepaper"
    return [
        first, last, f"{ascii_only(first.lower())}.{i}@{domain}", phone(rng, i),
        "" if free else f"Company {company_no}", rng.choice(TITLES), rng.choice(INDUSTRIES),
        "" if rng.random() < 0.2 else f"{int(10 ** rng.uniform(0, 4.5)):,}",
        "" if rng.random() < 0.25 else f"{round(10 ** rng.uniform(4, 9), 2)}",
        "" if free or rng.random() < 0.3 else f"www.company{company_no}.example",
        rng.choice(COUNTRIES), rng.choice(SOURCES), status,
        f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        notes, "",
    ]


def bad_row(rng: random.Random, row: list[str]) -> list[str]:
    kind = rng.randrange(4)
    if kind == 0:
        row[2] = row[2].replace("@", " at ")  # a malformed email
    elif kind == 1:
        row[2], row[3] = "", ""  # no way to reach the person
    elif kind == 2:
        row[7] = "a few"  # a word where the number belongs
    else:
        row[10] = "Germany"  # a country name instead of its code
    return row


def generate(path: Path, *, rows: int, seed: int = 11, bad: float = 0.02, duplicates: float = 0.05) -> dict:
    """Write the file; returns how many rows of each kind it holds."""
    rng = random.Random(seed)
    counts = {"rows": rows, "bad": 0, "duplicates": 0}
    earlier: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            row = good_row(rng, i)
            draw = rng.random()
            if draw < bad:
                row = bad_row(rng, row)
                counts["bad"] += 1
            elif draw < bad + duplicates and earlier:
                row[2] = rng.choice(earlier).upper()  # the same person again, as another system spelled it
                counts["duplicates"] += 1
            elif len(earlier) < 100_000 and row[2]:
                earlier.append(row[2])
            elif row[2] and rng.random() < 0.01:
                earlier[rng.randrange(len(earlier))] = row[2]
            writer.writerow(row)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(generate(args.path, rows=args.rows, seed=args.seed))


if __name__ == "__main__":
    main()
