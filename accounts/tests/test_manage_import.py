"""CSV import at /manage/employees/import/: preview, per-row errors, confirm."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.tests.manage_helpers import sign_in_verified
from conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/manage/employees/import/"
CONFIRM = "/manage/employees/import/confirm/"
GOOD = (
    "first_name,last_name,email,phone,language\n"
    "Jana,Doe,jana@example.com,+49 30 1234567,de\n"
    "Karl,Maier,,,\n"
)
MIXED = GOOD + ",Nobody,not-an-email,,xx\nJ,Dup,jana@example.com,,en\n"


def upload(client, text: str, name: str = "people.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def test_preview_creates_nothing_then_confirm_imports(manager_client, company_a, mailoutbox):
    response = upload(manager_client, GOOD)
    assert response.status_code == 200
    assert response.context["valid_count"] == 2
    assert not User.objects.filter(last_name__in=["Doe", "Maier"]).exists()

    response = manager_client.post(CONFIRM)
    assert response.status_code == 200
    assert set(company_a.users.values_list("last_name", flat=True)) >= {"Doe", "Maier"}
    assert [m.to for m in mailoutbox] == [["jana@example.com"]]
    [issued] = response.context["issued"]
    assert issued.user.last_name == "Maier"
    assert issued.initial_password in response.content.decode()
    # The preview is used up.
    assert manager_client.post(CONFIRM).status_code == 302


def test_a_double_click_on_import_creates_each_employee_once(manager_client, company_a):
    upload(manager_client, GOOD)
    # The second click's request read the session before the first one's answer changed it.
    before = dict(manager_client.session.items())
    assert manager_client.post(CONFIRM).status_code == 200
    session = manager_client.session
    session.update(before)
    session.save()
    response = manager_client.post(CONFIRM, follow=True)
    assert company_a.users.filter(last_name="Doe").count() == 1
    assert company_a.users.filter(last_name="Maier").count() == 1
    assert "already been imported" in response.content.decode()


def test_rows_with_errors_are_reported_per_line_and_block_the_import(manager_client):
    response = upload(manager_client, MIXED)
    content = response.content.decode()
    assert response.context["error_count"] == 2
    rows = response.context["rows"]
    assert [row.line for row in rows if not row.valid] == [4, 5]
    assert "appears twice" in content
    assert 'name="only_valid" value="1">Import 2 rows</button>' in content
    assert "Rows with errors are left out." in content

    response = manager_client.post(CONFIRM)
    assert response.status_code == 302
    assert not User.objects.filter(last_name__in=["Doe", "Maier"]).exists()


def test_the_manager_may_import_only_the_valid_rows(manager_client, company_a):
    upload(manager_client, MIXED)
    response = manager_client.post(CONFIRM, {"only_valid": "1"})
    assert response.status_code == 200
    assert set(
        company_a.users.filter(last_name__in=["Doe", "Maier", "Nobody", "Dup"]).values_list(
            "last_name", flat=True
        )
    ) == {"Doe", "Maier"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "name;mail\nx;y\n",
        "first_name,last_name\n",
        # a header field longer than the csv module's limit, in a file under the size limit
        "first_name,last_name,email," + "x" * 140_000 + "\nJana,Doe,,\n",
    ],
)
def test_unusable_files_are_a_400(manager_client, text):
    response = upload(manager_client, text)
    assert response.status_code == 400


def test_a_semicolon_file_as_excel_saves_it_on_a_german_windows_keeps_its_umlauts(
    manager_client,
):
    text = "first_name;last_name;email;phone;language\r\nJürgen;Müller-Groß;;;de\r\n"
    data = text.encode("cp1252")
    response = manager_client.post(URL, {"file": SimpleUploadedFile("p.csv", data, "text/csv")})
    assert response.status_code == 200
    assert "Jürgen Müller-Groß" in response.content.decode()
    assert response.context["valid_count"] == 1


def test_a_file_in_no_readable_encoding_is_a_400_that_says_how_to_save_it(manager_client):
    data = b"first_name,last_name\nJana,Doe\n\x81\x8d\n"
    response = manager_client.post(URL, {"file": SimpleUploadedFile("p.csv", data, "text/csv")})
    assert response.status_code == 400
    assert "CSV UTF-8" in response.content.decode()


def test_a_file_too_large_is_a_400(manager_client):
    response = upload(manager_client, "first_name,last_name\n" + "a,b\n" * 200_000)
    assert response.status_code == 400
    assert "too large" in response.content.decode()


def test_a_preview_of_another_company_cannot_be_confirmed(client, manager_a, manager_b):
    sign_in_verified(client, manager_a)
    upload(client, GOOD)
    session = client.session
    session["manage_import"]["company"] = manager_b.company_id
    session.save()
    assert client.post(CONFIRM).status_code == 302
    assert not User.objects.filter(last_name="Doe").exists()


def test_posted_privilege_columns_are_ignored(manager_client, company_a):
    upload(manager_client, "first_name,last_name,is_staff,company\nJana,Doe,1,2\n")
    manager_client.post(CONFIRM)
    user = User.objects.get(last_name="Doe")
    assert not user.is_staff and user.company == company_a


def test_the_preview_shows_phone_numbers_in_international_format(manager_client):
    text = "first_name,last_name,phone\nAnna,Berg,+49301234567\n"
    content = upload(manager_client, text).content.decode()
    assert "<td>+49 30 1234567</td>" in content


def test_a_reimported_row_without_email_is_flagged_and_created_only_if_confirmed(
    manager_client, company_a
):
    upload(manager_client, GOOD)
    manager_client.post(CONFIRM)
    karl = company_a.users.get(last_name="Maier")

    response = upload(manager_client, "first_name,last_name\nkarl,MAIER\nAnna,Berg\n")
    content = response.content.decode()
    assert response.context["ready_count"] == 1 and response.context["flagged_count"] == 1
    assert f"An employee with this name already exists: {karl.username}" in content
    assert '<tr class="row-warn">' in content
    assert '<input type="checkbox" name="create_anyway" value="2">' in content

    # Not ticked: the other row is imported, the likely duplicate is not and is listed.
    content = manager_client.post(CONFIRM).content.decode()
    assert company_a.users.filter(last_name__iexact="Maier").count() == 1
    assert company_a.users.filter(last_name="Berg").exists()
    assert "Not created" in content and "Line 2: karl MAIER." in content

    # Ticked: created.
    upload(manager_client, "first_name,last_name\nkarl,MAIER\n")
    response = manager_client.post(CONFIRM, {"create_anyway": "2"})
    assert response.status_code == 200
    assert company_a.users.filter(last_name__iexact="Maier").count() == 2
    assert "Not created" not in response.content.decode()


def test_a_forged_line_confirms_nothing(manager_client, company_a):
    upload(manager_client, GOOD)
    manager_client.post(CONFIRM)
    upload(manager_client, "first_name,last_name\nKarl,Maier\n")
    manager_client.post(CONFIRM, {"create_anyway": ["2", "99"]})
    assert company_a.users.filter(last_name="Maier").count() == 1


def test_a_reimported_row_with_its_email_names_the_existing_account(manager_client, company_a):
    upload(manager_client, GOOD)
    manager_client.post(CONFIRM)
    jana = company_a.users.get(last_name="Doe")
    response = upload(manager_client, "first_name,last_name,email\nJana,Doe,JANA@example.com\n")
    assert response.context["error_count"] == 1
    assert (
        f"An employee with this name and email address already exists: {jana.username}"
        in response.content.decode()
    )
    assert 'name="create_anyway"' not in response.content.decode()


def test_a_name_twice_in_the_file_is_flagged_on_its_second_line(manager_client, company_a):
    response = upload(manager_client, "first_name,last_name\nKarl,Maier\nKARL,maier\nAnna,Berg\n")
    content = response.content.decode()
    assert response.context["ready_count"] == 2 and response.context["flagged_count"] == 1
    assert "1 row may be a duplicate" in content
    assert "This name appears more than once in the file: see line 2." in content
    assert '<input type="checkbox" name="create_anyway" value="3">' in content
    assert 'name="create_anyway" value="2"' not in content

    content = manager_client.post(CONFIRM).content.decode()
    assert company_a.users.filter(last_name__iexact="Maier").count() == 1
    assert "1 row was not imported: it may be a duplicate" in content
    assert "Line 3: KARL maier. This name appears more than once in the file" in content


# --- The import button says how many rows it creates ---------------------------------------


def _button(content: str) -> str:
    actions = content[content.index('<p class="actions">') :]
    return re.search(r"<button [^>]*>[^<]*</button>", actions)[0]


def test_without_rows_to_ask_about_the_button_counts_the_rows(manager_client):
    content = upload(manager_client, GOOD).content.decode()
    assert _button(content) == '<button type="submit">Import 2 rows</button>'
    assert "import-preview.js" not in content
    content = upload(manager_client, "first_name,last_name\nAnna,Berg\n").content.decode()
    assert _button(content) == '<button type="submit">Import 1 row</button>'


def test_with_rows_to_ask_about_the_button_says_up_to_and_the_script_counts_the_ticks(
    manager_client, company_a
):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    text = "first_name,last_name\nKarl,Maier\nAnna,Berg\nAnna,Berg\nJana,Doe\n"
    content = upload(manager_client, text).content.decode()
    # Two rows ready, two to tick: without JavaScript nobody knows which will be ticked.
    assert _button(content) == (
        '<button type="submit" data-import-ready="2" data-label-one="Import 1 row" '
        'data-label-other="Import {count} rows">Import up to 4 rows</button>'
    )
    assert "js/import-preview.js" in content


def test_with_errors_the_button_imports_only_the_valid_rows_up_to_their_number(
    manager_client, company_a
):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    content = upload(manager_client, "first_name,last_name\nKarl,Maier\n,Nobody\n").content
    button = _button(content.decode())
    assert 'name="only_valid" value="1" data-import-ready="0"' in button
    assert button.endswith(">Import up to 1 row</button>")


def test_a_header_in_german_or_spanish_is_understood(manager_client):
    """What a German or Spanish Excel file says in its first line."""
    german = "Vorname;Nachname;E-Mail;Telefon;Sprache\nJürgen;Groß;jurgen@example.com;;de\n"
    spanish = "Nombre;Apellidos;Correo electrónico;Teléfono;Idioma\nNúria;Peña;;;es\n"
    for text, last_name in ((german, "Groß"), (spanish, "Peña")):
        response = upload(manager_client, text)
        assert response.status_code == 200, response.content.decode()
        [row] = response.context["rows"]
        assert row.valid and row.values["last_name"] == last_name


def test_an_address_twice_in_the_file_names_the_line_it_repeats(manager_client):
    response = upload(manager_client, GOOD + "Jo,Doe,JANA@example.com,,en\n")
    assert "This email address appears twice in the file: see line 2." in (
        response.content.decode()
    )


def test_an_unknown_language_code_says_which_ones_there_are(manager_client):
    response = upload(manager_client, "first_name,last_name,language\nAna,Ruiz,sp\n")
    assert "is no language of the portal: use en, de or es." in response.content.decode()
