"""import_leads takes files as real exports write them: encodings, delimiters, quoting, odd shapes."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leads.models import ImportJob, Lead
from tests.leads.importers.support import run_import, write_csv

pytestmark = pytest.mark.django_db


def emails(tenant):
    return sorted(Lead.objects.filter(tenant=tenant).values_list("email", flat=True))


@pytest.mark.parametrize(
    ("delimiter", "label"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_delimiters_are_detected(tenant, tmp_path, delimiter, label):
    text = delimiter.join(["Name", "Email", "Company"]) + "\n"
    text += delimiter.join(["Ada Lovelace", "ada@example.com", "Analytical, Engines"]) + "\n"
    text += delimiter.join(["Bob Smith", "bob@example.com", "Bob's"]) + "\n"
    if delimiter == ",":
        text = text.replace("Analytical, Engines", '"Analytical, Engines"')

    out = run_import(write_csv(tmp_path, text))

    assert f"(UTF-8, {label})" in out
    assert emails(tenant) == ["ada@example.com", "bob@example.com"]
    assert Lead.objects.get(email="ada@example.com").company == "Analytical, Engines"
    assert ImportJob.objects.get().delimiter == delimiter


def test_utf8_with_bom(tenant, tmp_path):
    path = write_csv(tmp_path, "Email,First Name\nzoe@example.com,Zoë\n", encoding="utf-8-sig")

    out = run_import(path)

    assert "UTF-8 with BOM" in out
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name) == ("zoe@example.com", "Zoë")  # the BOM is not part of the header


def test_windows_1252_is_detected_and_reported(tenant, tmp_path):
    # The accented name sits after 70 kB of plain ASCII: detection must look at the whole file.
    filler = "".join(f"Person {i},p{i}@example.com\n" for i in range(3000))
    path = write_csv(tmp_path, "Name,Email\n" + filler + "José Müller,jose@example.com\n", encoding="cp1252")

    out = run_import(path)

    assert "(Windows-1252, comma)" in out
    assert Lead.objects.get(email="jose@example.com").first_name == "José"
    assert Lead.objects.get(email="jose@example.com").last_name == "Müller"
    assert ImportJob.objects.get().encoding == "Windows-1252"


def test_quoted_fields_with_newlines_keep_their_line_numbers(tenant, tmp_path):
    text = (
        "Email,Notes,Employees\n"
        'a@example.com,"first line\nsecond line",10\n'
        "b@example.com,plain,lots\n"
    )
    path = write_csv(tmp_path, text)

    run_import(path, "--errors", str(tmp_path / "errors.csv"))

    assert Lead.objects.get(email="a@example.com").message == "first line\nsecond line"
    # b's row starts on line 4 of the file, because a's note spans lines 2 and 3 (its soft problem is a warning).
    [warning] = ImportJob.objects.get().findings["warnings"]
    assert (warning["column"], warning["examples"]) == ("Employees", [[4, "lots"]])


def test_blank_lines_extra_and_missing_columns(tenant, tmp_path):
    text = (
        "\n"
        "Email,First Name,Last Name\n"
        "\n"
        "a@example.com,Ann\n"  # missing a column
        "b@example.com,Ben,Bold,surplus\n"  # one more than the header
        ",,\n"
        "\r\n"
    )
    out = run_import(write_csv(tmp_path, text))

    assert "2 rows" in out
    assert emails(tenant) == ["a@example.com", "b@example.com"]
    assert Lead.objects.get(email="a@example.com").last_name == ""
    assert Lead.objects.get(email="b@example.com").custom_fields == {"column 4": "surplus"}


def test_a_very_long_field_is_cut_with_a_warning_and_an_unreadable_row_rejects_only_itself(tenant, tmp_path):
    long_company = "x" * 300
    huge = "y" * (2 * 1024 * 1024)  # over the reader's cell limit
    text = f"Email,Company,Notes\na@example.com,{long_company},\nb@example.com,ok,{huge}\nc@example.com,fine,\n"

    out = run_import(write_csv(tmp_path, text), "--errors", str(tmp_path / "errors.csv"))

    assert "created 2" in out and "rejected 1" in out
    assert emails(tenant) == ["a@example.com", "c@example.com"]
    a = Lead.objects.get(email="a@example.com")
    assert a.company == "x" * 200 and a.custom_fields == {"Company": long_company}
    [warning] = ImportJob.objects.get().findings["warnings"]
    assert warning["column"] == "Company" and "200 characters" in warning["message"]
    report = (tmp_path / "errors.csv").read_text()
    assert "3,,,The row cannot be read as CSV: field larger than field limit" in report


def test_a_header_only_file_imports_nothing_and_succeeds(tenant, tmp_path):
    out = run_import(write_csv(tmp_path, "Email,Name\n"))

    assert "created 0" in out and "The file has a header but no rows." in out
    assert ImportJob.objects.get().rows_read == 0


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_an_empty_file_is_an_error_saying_what_to_do(tenant, tmp_path, content):
    with pytest.raises(CommandError, match="is empty: export the leads again with a header row"):
        run_import(write_csv(tmp_path, content))
    assert not ImportJob.objects.exists()


def test_a_workbook_is_refused(tenant, tmp_path):
    path = tmp_path / "leads.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
    with pytest.raises(CommandError, match="not a text file .* save it as CSV"):
        run_import(path)


def test_a_file_without_email_or_phone_column_says_to_map_one(tenant, tmp_path):
    with pytest.raises(CommandError, match=r'holds an email or a phone .*--map "Work Mail=email"'):
        run_import(write_csv(tmp_path, "Name,Company\nAda,Acme\n"))


def test_a_missing_file_and_unknown_tenant_are_explained(tenant, tmp_path):
    with pytest.raises(CommandError, match="No file at"):
        run_import(tmp_path / "nope.csv")
    with pytest.raises(CommandError, match="No workspace with slug 'nope'; known slugs: acme"):
        run_import(write_csv(tmp_path, "Email\na@example.com\n"), tenant="nope")


class Terminal(StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise(tenant, tmp_path):
    path = write_csv(tmp_path, "Email\n" + "".join(f"p{i}@example.com\n" for i in range(5)))

    plain = run_import(path, "--batch-size", "2")
    assert plain.count("100% of the file, 5 rows") == 1
    assert "5 created, 0 updated, 0 skipped, 0 rejected" in plain

    terminal = Terminal()
    call_command("import_leads", str(path), "--tenant", "acme", stdout=terminal)
    shown = terminal.getvalue()
    assert "leads.csv" in shown and "rows/s" in shown and "━" in shown  # rich's bar
    assert "created 0, updated 0, skipped 5 (already known), rejected 0" in shown
