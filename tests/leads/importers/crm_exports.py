"""Builds the sample CRM exports under files/ (no tests here): `python -m tests.leads.importers.crm_exports`.

Each export is one CRM's default shape (its documented columns, in its order, its words for status,
source and rating, its date format), filled with the realistic mess of a team's real data: names with
accents, countries by name (and one nobody knows), US dates, owners by full name (and one who left),
employee ranges, currency strings, a few duplicates and a few truly bad rows. `build(crm)` returns
the file's text and, for each line, what the import must make of it; test_crm_exports.py checks the
committed file is still what `build` writes, then imports it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

FILES = Path(__file__).parent / "files"

FIRST = ["José", "Zoë", "Björn", "Anaïs", "Łukasz", "Renée", "Søren", "Çağla", "Ana", "Mark", "Priya", "Chloé",
         "Jürgen", "Siobhán", "Hiroshi", "Nuño", "Ines", "Oğuz", "Tomás", "Ada"]
LAST = ["Núñez", "Müller", "Østergaard", "Dvořák", "O'Brien", "García Márquez", "Lefèvre", "Smith", "Kowalski",
        "Yılmaz", "Nakamura", "Brontë", "Ødegaard", "Fernández", "Lovelace", "Schäfer", "Rossi"]
COMPANIES = ["Analytical Engines", "Société Générale de Test", "Müller & Söhne GmbH", "Acme Widgets", "Nordlys AS",
             "Çelik Yapı", "Kyoto Robotics", "Brontë Books Ltd"]
# (what the file says, the ISO code we expect; None: unknown, kept raw with a warning)
COUNTRIES = [("United Kingdom", "GB"), ("Germany", "DE"), ("United States", "US"), ("USA", "US"),
             ("France", "FR"), ("DE", "DE"), ("España", "ES"), ("Deutschland", "DE"), ("UK", "GB"),
             ("Netherlands", "NL"), ("Japan", "JP"), ("Türkiye", "TR"), ("Narnia", None)]
EMPLOYEES = [("11-50", 11), ("1,000+", 1000), ("250", 250), ("", None), ("51-200", 51), ("5,000-10,000", 5000)]
REVENUE = [("$1.2M", "1200000"), ("1,200,000", "1200000"), ("$50M", "50000000"), ("", None), ("750000", "750000"),
           ("€2.5M", "2500000"), ("lots", None)]
OWNERS = [("Rita Alvarez", "rita"), ("Sam Okafor", "sokafor"), ("rita@acme.example", "rita"), ("", None),
          ("Pat Departed", None)]


@dataclass
class Expect:
    line: int
    outcome: str  # created, skipped, rejected
    email: str = ""
    status: str = ""
    source: str = ""
    owner: str | None = None  # a username; None: routed
    country: str | None = None
    created: dt.datetime | None = None
    employees: int | None = None
    revenue: str | None = None


@dataclass
class Person:
    i: int
    first: str
    last: str
    email: str
    phone: str
    company: str
    title: str
    country: tuple[str, str | None]
    employees: tuple[str, int | None]
    revenue: tuple[str, str | None]
    owner: tuple[str, str | None]
    created: dt.datetime


def people(count: int, *, seed: int) -> list[Person]:
    out = []
    for i in range(count):
        k = i + seed
        first, last = FIRST[k % len(FIRST)], LAST[(k * 7) % len(LAST)]
        local = unicodedata.normalize("NFKD", f"{first}.{last}".lower()).encode("ascii", "ignore").decode()
        local = local.replace(" ", "").replace("'", "")
        out.append(Person(
            i=i, first=first, last=last, email=f"{local}{i}@example{k % 5}.com",
            phone="" if i % 4 else f"+44 20 7946 {i:04d}", company=COMPANIES[k % len(COMPANIES)],
            title=["CTO", "Head of Sales", "Directeur commercial", "Einkaufsleiterin", "VP Engineering"][k % 5],
            country=COUNTRIES[k % len(COUNTRIES)], employees=EMPLOYEES[k % len(EMPLOYEES)],
            revenue=REVENUE[k % len(REVENUE)], owner=OWNERS[k % len(OWNERS)],
            created=dt.datetime(2025, 1 + k % 12, 1 + (k * 3) % 28, 9 + k % 8, (k * 11) % 60, tzinfo=dt.UTC),
        ))
    return out


@dataclass
class Crm:
    name: str
    header: list[str]
    statuses: list[tuple[str, str]]  # (their word, our status)
    sources: list[tuple[str, str]]  # (their word, our source)
    date: str  # strftime format of their export

    def cells(self, p: Person, status: str, source: str, rating: str, date: str) -> list[str]:
        raise NotImplementedError


class Salesforce(Crm):
    def cells(self, p, status, source, rating, date):
        return [f"00Q5g00000{p.i:05d}AAA", p.first, p.last, p.title, p.company, p.email, p.phone, source, status,
                rating, "Software", p.employees[0], p.revenue[0], "", p.country[0], p.owner[0], date,
                "Met at the booth; =SUM(A1) asked for a demo" if p.i == 7 else ""]


class HubSpot(Crm):
    def cells(self, p, status, source, rating, date):
        lifecycle = "customer" if status == "" else "lead"
        return [str(9000 + p.i), p.first, p.last, p.email, p.phone, p.company, p.title, p.owner[0], status,
                lifecycle, source, p.country[0], "COMPUTER_SOFTWARE", p.employees[0], p.revenue[0],
                "", date]


class Pipedrive(Crm):
    def cells(self, p, status, source, rating, date):
        return [f"{p.first} {p.last}", p.email, p.phone, p.company, p.title, p.owner[0], source, rating, date,
                p.country[0], p.employees[0]]


class Zoho(Crm):
    def cells(self, p, status, source, rating, date):
        return [f"zcrm_{4000 + p.i}", p.owner[0], p.company, p.first, p.last, p.title, p.email, p.phone, "",
                source, status, "Software", p.employees[0], p.revenue[0], rating, date, p.country[0], ""]


class Dynamics(Crm):
    def cells(self, p, status, source, rating, date):
        return [f"7d3c{p.i:04d}-0000-0000-0000-000000000000", "CHK", "11/30/2025 10:00", f"Interest from {p.company}",
                p.first, p.last, p.title, p.company, p.phone, p.email, p.country[0], source, status, rating,
                p.owner[0], date, p.employees[0], p.revenue[0]]


CRMS: dict[str, Crm] = {
    "salesforce": Salesforce(
        "salesforce",
        ["Lead ID", "First Name", "Last Name", "Title", "Company", "Email", "Phone", "Lead Source", "Lead Status",
         "Rating", "Industry", "No. of Employees", "Annual Revenue", "Website", "Country", "Lead Owner",
         "Created Date", "Description"],
        [("Open - Not Contacted", "new"), ("Working - Contacted", "contacted"), ("Closed - Converted", "converted"),
         ("Closed - Not Converted", "disqualified")],
        [("Web", "website_form"), ("Phone Inquiry", "other"), ("Partner Referral", "partner"),
         ("Purchased List", "import"), ("Other", "other"), ("Trade Show", "other")],
        "%m/%d/%Y",
    ),
    "hubspot": HubSpot(
        "hubspot",
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name", "Job Title",
         "Contact owner", "Lead Status", "Lifecycle Stage", "Original Source", "Country/Region", "Industry",
         "Number of Employees", "Annual Revenue", "Website URL", "Create Date"],
        [("New", "new"), ("Attempted to Contact", "contacted"), ("Connected", "contacted"), ("Bad Timing", "contacted"),
         ("Open Deal", "qualified"), ("Unqualified", "disqualified"), ("In Progress", "contacted"), ("", "converted")],
        [("Organic Search", "website_form"), ("Referrals", "referral"), ("Social Media", "social"),
         ("Offline Sources", "import"), ("Direct Traffic", "website_form"), ("Email Marketing", "other")],
        "%Y-%m-%d %H:%M",
    ),
    "pipedrive": Pipedrive(
        "pipedrive",
        ["Person - Name", "Person - Email - Work", "Person - Phone - Work", "Organization - Name",
         "Person - Job title", "Lead - Owner", "Lead - Source", "Lead - Labels", "Lead - Lead created",
         "Person - Country", "Organization - Number of employees"],
        [("", "new")],
        [("Web forms", "website_form"), ("Manually created", "manual"), ("Chatbot", "chat"), ("Import", "import")],
        "%m/%d/%Y %I:%M %p",
    ),
    "zoho": Zoho(
        "zoho",
        ["Record Id", "Lead Owner", "Company", "First Name", "Last Name", "Designation", "Email", "Phone",
         "Mobile", "Lead Source", "Lead Status", "Industry", "No. of Employees", "Annual Revenue", "Rating",
         "Created Time", "Country", "Description"],
        [("Not Contacted", "new"), ("Attempted to Contact", "contacted"), ("Pre-Qualified", "qualified"),
         ("Junk Lead", "disqualified"), ("Contact in Future", "contacted")],
        [("Cold Call", "other"), ("Employee Referral", "referral"), ("Web Download", "website_form"),
         ("Partner", "partner"), ("Chat", "chat")],
        "%m/%d/%Y %H:%M",
    ),
    "dynamics": Dynamics(
        "dynamics",
        ["(Do Not Modify) Lead", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Topic",
         "First Name", "Last Name", "Job Title", "Company Name", "Business Phone", "Email", "Country/Region",
         "Lead Source", "Status Reason", "Rating", "Owner", "Created On", "No. of Employees", "Annual Revenue"],
        [("New", "new"), ("Contacted", "contacted"), ("Qualified", "qualified"), ("Cannot Contact", "disqualified")],
        [("Web", "website_form"), ("Word of Mouth", "referral"), ("Partner", "partner"), ("Trade Show", "other")],
        "%m/%d/%Y %I:%M %p",
    ),
}
RATINGS = ["Hot", "Warm", "Cold", ""]
SIZES = {"salesforce": 200, "hubspot": 200, "pipedrive": 40, "zoho": 40, "dynamics": 40}


def build(name: str) -> tuple[str, list[Expect]]:
    """The export's text and what each of its rows must become."""
    crm = CRMS[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(crm.header)
    expects: list[Expect] = []
    seen: set[str] = set()
    email_column = next(i for i, h in enumerate(crm.header) if "mail" in h.lower())
    phone_column = next(i for i, h in enumerate(crm.header) if "phone" in h.lower())
    for p in people(SIZES[name], seed=len(name)):
        status_word, status = crm.statuses[p.i % len(crm.statuses)]
        source_word, source = crm.sources[p.i % len(crm.sources)]
        created = p.created.replace(second=0)
        if "%H" not in crm.date and "%I" not in crm.date:
            created = created.replace(hour=0, minute=0)
        cells = crm.cells(p, status_word, source_word, RATINGS[p.i % 4], created.strftime(crm.date))
        line = p.i + 2
        expect = Expect(line=line, outcome="created", email=p.email.lower(), status=status, source=source,
                        owner=p.owner[1], country=p.country[1], created=created, employees=p.employees[1],
                        revenue=p.revenue[1])
        if p.i % 50 == 13:  # an invalid email (one looks like a formula: the report must escape it)
            cells[email_column] = "=cmd|' /C calc'!A0" if p.i == 13 else f"{p.first}@"
            expect = Expect(line=line, outcome="rejected")
        elif p.i % 50 == 29:  # nobody to reach: no email, no phone
            cells[email_column], cells[phone_column] = "", ""
            expect = Expect(line=line, outcome="rejected")
        elif p.i % 50 == 41 and p.i > 50:  # the same person exported twice
            earlier = people(SIZES[name], seed=len(name))[41]
            cells[email_column] = earlier.email.upper()
            expect = Expect(line=line, outcome="skipped", email=earlier.email.lower())
        if expect.email and expect.email in seen and expect.outcome == "created":
            expect.outcome = "skipped"
        if expect.outcome == "created":
            seen.add(expect.email)
        writer.writerow(cells)
        expects.append(expect)
    return out.getvalue(), expects


def path_of(name: str) -> Path:
    return FILES / f"{name}_default_export.csv"


if __name__ == "__main__":
    FILES.mkdir(exist_ok=True)
    for crm_name in CRMS:
        text, _ = build(crm_name)
        path_of(crm_name).write_text(text, encoding="utf-8", newline="")
        print(path_of(crm_name))
