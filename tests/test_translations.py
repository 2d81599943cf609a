"""The Vietnamese catalogue is complete, compiled, and used by the pages.

The .po files are read with a small parser (no polib): enough for what makemessages writes.
Refresh the catalogues with `make messages` (see README), translate what is new, then run this file.
"""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE = Path(settings.BASE_DIR) / "locale"
VI_PO = LOCALE / "vi" / "LC_MESSAGES" / "django.po"
VI_MO = LOCALE / "vi" / "LC_MESSAGES" / "django.mo"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"

# %(name)s, %(count)d, %s, %d ... ; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict = field(default_factory=dict)
    flags: set = field(default_factory=set)
    line: int = 0

    @property
    def translations(self):
        return list(self.msgstr_plural.values()) if self.msgid_plural is not None else [self.msgstr]

    @property
    def catalogue_key(self):
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _unquote(text):
    return ast.literal_eval(text.strip())


def parse_po(path):
    """Entries of a .po file in order, the header (msgid "") first; obsolete (#~) entries left out."""
    entries = []
    entry, target = None, None

    def finish():
        if entry is not None and (entry.msgid or entry.msgstr or entry.msgstr_plural):
            entries.append(entry)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            entry, target = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry(line=number)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = _unquote(line)
            if isinstance(target, int):
                entry.msgstr_plural[target] += value
            else:
                setattr(entry, target, getattr(entry, target) + value)
        else:
            keyword, _, rest = line.partition(" ")
            plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if plural:
                target = int(plural.group(1))
                entry.msgstr_plural[target] = _unquote(rest)
            elif keyword in ("msgid", "msgctxt", "msgid_plural", "msgstr"):
                target = keyword
                setattr(entry, target, _unquote(rest))
            else:
                raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def split_header(entries):
    header, messages = entries[0], entries[1:]
    assert header.msgid == "" and header.msgctxt is None, "the header entry must come first"
    fields = dict(line.split(": ", 1) for line in header.msgstr.splitlines() if ": " in line)
    return header, fields, messages


@pytest.fixture(scope="module")
def vi_po():
    return parse_po(VI_PO)


def test_the_vietnamese_catalogue_has_the_strings_of_the_project(vi_po):
    _, _, messages = split_header(vi_po)
    msgids = {m.msgid for m in messages}
    assert len(messages) > 100
    assert {"Sign in", "Sign out", "Cell secretary", "Not yet decided"} <= msgids


def test_the_vietnamese_header_declares_one_plural_form_and_utf8(vi_po):
    header, fields, _ = split_header(vi_po)
    assert "fuzzy" not in header.flags
    assert fields["Language"] == "vi"
    assert fields["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in fields["Content-Type"]


def test_every_vietnamese_entry_is_translated_and_none_is_fuzzy(vi_po):
    _, _, messages = split_header(vi_po)
    fuzzy = [m.msgid for m in messages if "fuzzy" in m.flags]
    untranslated = [m.msgid for m in messages if not all(t.strip() for t in m.translations)]
    assert not fuzzy, f"fuzzy entries to check: {fuzzy}"
    assert not untranslated, f"entries without a translation: {untranslated}"


def test_plural_entries_have_exactly_the_one_vietnamese_form(vi_po):
    _, _, messages = split_header(vi_po)
    wrong = [m.msgid for m in messages if m.msgid_plural is not None and sorted(m.msgstr_plural) != [0]]
    assert not wrong, f"plural entries must have msgstr[0] only: {wrong}"


def test_translations_keep_the_placeholders_of_the_source(vi_po):
    _, _, messages = split_header(vi_po)
    broken = []
    for m in messages:
        if "python-format" not in m.flags and "python-brace-format" not in m.flags:
            continue
        expected = sorted(PLACEHOLDER.findall(m.msgid_plural or m.msgid))
        for text in m.translations:
            if sorted(PLACEHOLDER.findall(text)) != expected:
                broken.append((m.msgid, text))
    assert not broken, broken


def test_the_compiled_vietnamese_catalogue_matches_the_po_file(vi_po):
    """A .po edited without `compilemessages` leaves a stale .mo: every entry must read back the same."""
    assert VI_MO.exists(), "run: manage.py compilemessages --ignore=.venv"
    _, _, messages = split_header(vi_po)
    with VI_MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    compiled = catalogue._catalog
    stale = []
    for m in messages:
        if m.msgid_plural is None:
            if compiled.get(m.catalogue_key) != m.msgstr:
                stale.append(m.msgid)
        else:
            for index, text in m.msgstr_plural.items():
                if compiled.get((m.catalogue_key, index)) != text:
                    stale.append(m.msgid)
    assert not stale, f"the .mo is older than the .po for: {stale}"
    # Nothing left in the .mo that the .po no longer has (the header is the "" key).
    po_keys = {m.catalogue_key for m in messages}
    extra = {key if isinstance(key, str) else key[0] for key in compiled} - po_keys - {""}
    assert not extra, f"the .mo holds entries the .po no longer has: {extra}"
    assert catalogue.ngettext("%(counter)s party member", "%(counter)s party members", 5) == "%(counter)s đảng viên"


def test_the_english_catalogue_exists_compiles_and_translates_nothing():
    assert EN_PO.exists() and EN_MO.exists()
    header, fields, messages = split_header(parse_po(EN_PO))
    assert fields["Language"] == "en"
    assert messages, "the English catalogue lists the same msgids"
    assert not [m.msgid for m in messages if any(m.translations)], "source strings are English: msgstr stays empty"
    with EN_MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.gettext("Sign in") == "Sign in"


def test_gettext_answers_in_vietnamese():
    from django.utils import translation
    from django.utils.translation import gettext, ngettext

    with translation.override("vi"):
        assert gettext("Sign in") == "Đăng nhập"
        assert gettext("Sign out") == "Đăng xuất"
        assert gettext("Cell secretary") == "Bí thư chi bộ"
        assert ngettext("%(counter)s party member", "%(counter)s party members", 3) % {"counter": 3} == "3 đảng viên"
    with translation.override("en"):
        assert gettext("Sign in") == "Sign in"


@pytest.mark.django_db
def test_the_login_page_is_in_vietnamese_by_default(client):
    response = client.get(reverse("accounts:login"))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'lang="vi"' in content
    assert "Đăng nhập" in content
    assert "Tên đăng nhập" in content and "Mật khẩu" in content
    assert "Sign in" not in content


@pytest.mark.django_db
def test_the_login_page_is_in_english_when_the_browser_asks_for_it(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Sign in" in content
    assert "Đăng nhập" not in content


@pytest.mark.django_db
def test_the_language_cookie_switches_the_login_page_to_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in" in content and "Username" in content
