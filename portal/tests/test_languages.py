from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"


def _entries(po_file: Path):
    """(msgid, [msgstr…], flags) for every entry of a .po file, header excluded."""
    text = po_file.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        if "msgid" not in block or block.lstrip().startswith("#~"):
            continue
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        head = block.split("msgstr")[0].split("msgid_plural")[0]
        msgid = "".join(re.findall(r'^(?:msgid)?\s*"(.*)"$', head, re.M))
        msgstrs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block + "\n", re.M)
        values = ["".join(re.findall(r'"(.*)"', chunk)) for chunk in msgstrs]
        if msgid == "":
            continue  # the header
        yield msgid, values, flags


@pytest.mark.parametrize("language", ["de", "es"])
def test_catalogue_is_complete_without_fuzzy_entries(language):
    po_file = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert po_file.exists(), f"{po_file} is missing"
    untranslated = [msgid for msgid, values, _ in _entries(po_file) if not all(values)]
    fuzzy = [msgid for msgid, _, flags in _entries(po_file) if "fuzzy" in flags]
    assert not untranslated, f"{len(untranslated)} untranslated in {language}: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {language}: {fuzzy[:10]}"


# English says "they" for the Security Manager; a translation must not turn that into "he".
MASCULINE_PRONOUN = {"de": r"\b(er|ihm|ihn)\b", "es": r"\bél\b"}


@pytest.mark.parametrize("language", ["de", "es"])
def test_the_security_manager_is_not_called_he(language):
    po_file = LOCALE / language / "LC_MESSAGES" / "django.po"
    wrong = [
        values
        for msgid, values, _ in _entries(po_file)
        if "Security Manager" in msgid
        and re.search(r"\b(they|them)\b", msgid)
        and any(re.search(MASCULINE_PRONOUN[language], value, re.I) for value in values)
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("language", ["de", "es"])
def test_compiled_catalogue_is_committed_and_up_to_date(language):
    folder = LOCALE / language / "LC_MESSAGES"
    mo, po = folder / "django.mo", folder / "django.po"
    assert mo.exists(), f"{mo} is missing: run make messages"
    from gettext import GNUTranslations

    with mo.open("rb") as handle:
        catalog = GNUTranslations(handle)._catalog
    translated = {msgid for msgid, values, _ in _entries(po) if all(values) and "\\" not in msgid}
    plural_ids = {key[0] for key in catalog if isinstance(key, tuple)}
    missing = [msgid for msgid in translated if msgid not in catalog and msgid not in plural_ids]
    assert not missing, f".mo is stale: {missing[:5]}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Sign in"), ("de", "Anmelden"), ("es", "Iniciar sesión")]
)
def test_pages_speak_the_chosen_language(client, language, expected):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/")
    assert f'lang="{language}"' in response.content.decode()
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_the_switcher_sets_the_language_and_returns_to_the_page(client):
    response = client.post("/language/", {"language": "es", "next": "/account/login/help/"})
    assert response.status_code == 302
    assert response["Location"] == "/account/login/help/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


@pytest.mark.django_db
def test_the_switcher_never_redirects_off_site(client):
    response = client.post("/language/", {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_the_switcher_ignores_unknown_languages_and_refuses_get(client):
    response = client.post("/language/", {"language": "xx", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get("/language/").status_code == 405


@pytest.mark.django_db
def test_a_signed_in_users_choice_becomes_their_preference(client, employee_a):
    client.force_login(employee_a)
    client.post("/language/", {"language": "de", "next": "/dashboard/"})
    employee_a.refresh_from_db()
    assert employee_a.preferred_language == "de"


@pytest.mark.django_db
def test_help_texts_built_at_import_time_are_translated_when_shown(client, employee_a):
    employee_a.preferred_language = "de"
    employee_a.save()
    client.force_login(employee_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    content = client.get("/tickets/new/").content.decode()
    assert "Bis zu 5 Dateien" in content
    assert "Up to 5 files" not in content


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "de", "es"])
def test_the_switcher_names_each_language_in_itself(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get("/account/login/").text
    for code, name in (("en", "English"), ("de", "Deutsch"), ("es", "Español")):
        assert re.search(rf'<option value="{code}"[^>]*lang="{code}">{name}</option>', html)
