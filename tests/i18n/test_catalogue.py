"""The Russian catalogue is complete: every string shown to people has a Russian translation.

The strings are extracted the way makemessages would, without GNU gettext: templates through Django's
own `templatize` (the same transformation makemessages feeds to xgettext), Python through `ast`. The
committed .mo is what Django reads at run time, so it must say exactly what the .po says.
"""

import ast
import gettext
import io
import tokenize
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.timesince import timesince
from django.utils.translation import ngettext
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2] / "clinicflow"
PO = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# name → (index of the context argument or None, indexes of the message arguments)
MARKERS = {
    "_": (None, (0,)), "gettext": (None, (0,)), "gettext_lazy": (None, (0,)), "gettext_noop": (None, (0,)),
    "ngettext": (None, (0, 1)), "ngettext_lazy": (None, (0, 1)),
    "pgettext": (0, (1,)), "pgettext_lazy": (0, (1,)), "npgettext": (0, (1, 2)), "npgettext_lazy": (0, (1, 2)),
}


def read_po(path: Path) -> dict[tuple[str, str], dict]:
    """(context, msgid) → {"plural": msgid_plural or None, "strs": [msgstr…], "fuzzy": bool}."""
    entries, current, key = {}, None, None

    def close(entry):
        if entry and "msgid" in entry and entry["msgid"]:
            strs = [entry["msgstr"][i] for i in sorted(entry["msgstr"])]
            entries[(entry.get("msgctxt", ""), entry["msgid"])] = {
                "plural": entry.get("msgid_plural"), "strs": strs, "fuzzy": entry["fuzzy"]}

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            close(current)
            current = None
            continue
        current = current or {"msgstr": {}, "fuzzy": False}
        if line.startswith("#"):
            current["fuzzy"] |= line.startswith("#,") and "fuzzy" in line
            continue
        if not line.startswith('"'):
            key, _space, line = line.partition(" ")
        value = ast.literal_eval(line)
        if key.startswith("msgstr"):
            index = int(key[7:-1]) if "[" in key else 0
            current["msgstr"][index] = current["msgstr"].get(index, "") + value
        else:
            current[key] = current.get(key, "") + value
    return entries


def _calls_in_python(source: str):
    """(context, msgid, msgid_plural) of every marked string of a Python module."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in MARKERS:
            continue
        context_at, message_at = MARKERS[name]
        wanted = ([context_at] if context_at is not None else []) + list(message_at)
        if len(node.args) <= max(wanted):
            continue
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        if any(args[i] is None for i in wanted):
            continue  # a variable: the string itself is marked where it is written
        yield (args[context_at] if context_at is not None else "", args[message_at[0]],
               args[message_at[1]] if len(message_at) > 1 else None)


def _calls_in_template(source: str):
    """The same for a template: `templatize` turns {% translate %} and _("…") into gettext calls."""
    # Lines dedented: the template's own indentation would read as Python's.
    code = "\n".join(line.lstrip() for line in templatize(source).splitlines())
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type in (tokenize.NAME, tokenize.OP, tokenize.STRING)]
    for i, token in enumerate(tokens[:-1]):
        if token.type != tokenize.NAME or token.string not in MARKERS or tokens[i + 1].string != "(":
            continue
        strings, j = [], i + 2
        while j < len(tokens) and tokens[j].type == tokenize.STRING:
            strings.append(ast.literal_eval(tokens[j].string))
            j += 2 if j + 1 < len(tokens) and tokens[j + 1].string == "," else 1
        context_at, message_at = MARKERS[token.string]
        offset = 1 if context_at is not None else 0
        if len(strings) >= len(message_at) + offset:
            yield (strings[0] if offset else "", strings[offset],
                   strings[offset + 1] if len(message_at) > 1 else None)


def marked_strings() -> dict[tuple[str, str], str]:
    """Every marked string of the product → the file it is in."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            for context, msgid, _plural in _calls_in_python(path.read_text(encoding="utf-8")):
                found.setdefault((context, msgid), str(path.relative_to(ROOT)))
    for path in sorted(ROOT.rglob("templates/**/*.html")):
        for context, msgid, _plural in _calls_in_template(path.read_text(encoding="utf-8")):
            found.setdefault((context, msgid), str(path.relative_to(ROOT)))
    return found


def test_translation_functions_keep_names_the_extraction_knows():
    """`gettext_lazy as _lazy` hid two strings from makemessages and from this file's check alike."""
    unknown = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                unknown += [f"{path.relative_to(ROOT)}: {alias.name} as {alias.asname}" for alias in node.names
                            if alias.name in MARKERS and (alias.asname or alias.name) not in MARKERS]
    assert not unknown, "Import it under its own name or as _, else its strings are never translated:\n" + "\n".join(
        unknown)


def test_every_string_shown_to_people_has_a_russian_translation():
    catalogue = read_po(PO)
    strings = marked_strings()
    assert len(strings) > 300, "the extraction found too little: is it still reading the sources?"
    untranslated = [f"{where}: {msgid!r}" for (context, msgid), where in sorted(strings.items(), key=str)
                    if (context, msgid) not in catalogue
                    or not all(catalogue[(context, msgid)]["strs"])
                    or catalogue[(context, msgid)]["fuzzy"]]
    assert not untranslated, "No Russian translation (add it to django.po, then compile; docs/i18n.md):\n" + "\n".join(
        untranslated)


def test_the_compiled_catalogue_says_what_the_po_says():
    catalogue = read_po(PO)
    with MO.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    expected = {}
    for (context, msgid), entry in catalogue.items():
        key = f"{context}\x04{msgid}" if context else msgid
        if entry["plural"] is None:
            expected[key] = entry["strs"][0]
        else:
            expected.update({(key, i): text for i, text in enumerate(entry["strs"])})
    compiled.pop("", None)  # the header
    assert compiled == expected, "django.mo is out of date: compile django.po again (docs/i18n.md)"


def test_the_catalogue_has_no_fuzzy_or_obsolete_entries():
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    assert "\n#~ " not in text


def test_the_extraction_finds_strings_in_templates_with_plurals_and_filters():
    found = list(_calls_in_template(
        '{% load i18n %}{% translate "Queue" %} {{ x|default:_("(no name)") }}'
        '{% blocktranslate count n=k %}{{ n }} day{% plural %}{{ n }} days{% endblocktranslate %}'))
    assert ("", "Queue", None) in found
    assert ("", "(no name)", None) in found
    assert ("", "%(n)s day", "%(n)s days") in found


@pytest.mark.parametrize(("count", "russian"), [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (11, "11 дней"),
                                                 (21, "21 день"), (22, "22 дня")])
def test_counts_take_the_russian_plural_forms(count, russian):
    with translation.override("ru"):
        assert ngettext("%(days)s day", "%(days)s days", count) % {"days": count} == russian


def test_durations_read_as_russian_words():
    from datetime import datetime, timedelta

    now = datetime(2026, 11, 30, 12, 0)
    with translation.override("ru"):
        assert timesince(now - timedelta(minutes=5), now) == "5\xa0минут"
        assert timesince(now - timedelta(minutes=1), now) == "1\xa0минута"
        assert timesince(now - timedelta(minutes=2), now) == "2\xa0минуты"
