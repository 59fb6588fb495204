"""Unicode handling for Vietnamese text: clean input, compare names the way people read them.

Vietnamese is written with two tone-mark placements in common use ("Hòa"/"Hoà",
"Thủy"/"Thuỷ"), typed as NFC or NFD depending on the keyboard, with or without accents
on phones. Three levels of comparison are needed:

- ``clean``: what is stored (NFC, trimmed, inner spaces collapsed);
- ``place_key``: the same place whatever the case, spacing, Unicode form or tone
  placement, while different tones stay different ("Bản Lác" is not "Bản Lạc");
- ``fold``: accent-insensitive, for search boxes ("hoa binh" finds "Hoà Bình").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean", "place_key", "fold", "bad_characters", "BadText", "human_text", "classic_tones",
           "REJECTED_CATEGORIES"]

# Combining marks that carry the five Vietnamese tones (grave, acute, tilde, hook, dot below).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SPACES = re.compile(r"\s+")
# An open syllable ending in oa, oe or uy (not the qu- of "Quý") with the tone on its last
# vowel, in NFD: "Hoà", "Thuỷ". The classic placement puts it on the first: "Hòa", "Thủy".
_NEW_PLACEMENT = re.compile("(?<![qQ])([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])(?![^\\W\\d_])")
_WORD = re.compile(r"\w+")
# Control characters, and format characters (bidi overrides, zero-width joiners and spaces):
# they make text look different from what it is and have no place in a name or an address.
REJECTED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean(value: str, *, multiline: bool = False) -> str:
    """NFC, trimmed, runs of spaces collapsed (line breaks kept when ``multiline``)."""
    value = unicodedata.normalize("NFC", value)
    if multiline:
        lines = (_SPACES.sub(" ", line).strip() for line in value.splitlines())
        return "\n".join(lines).strip()
    return _SPACES.sub(" ", value).strip()


def bad_characters(value: str) -> list[str]:
    """Name the control, bidi-override and invisible characters found in ``value``."""
    if value.isprintable():
        return []  # every rejected category is "Other", which str.isprintable refuses: one C-speed pass
    found = {
        f"U+{ord(ch):04X}"
        for ch in value
        if ch not in "\t\n\r" and unicodedata.category(ch) in REJECTED_CATEGORIES
    }
    return sorted(found)


class BadText(ValueError):
    """Text holding control or invisible characters; ``chars`` names their code points."""

    def __init__(self, chars: list[str]):
        super().__init__(", ".join(chars))
        self.chars = ", ".join(chars)


def human_text(value: str, *, multiline: bool = False) -> str:
    """The one rule for every text a person types (names, addresses, reasons, agency names):
    control, bidi and zero-width characters refused (BadText names them), stored as NFC."""
    bad = bad_characters(value)
    if bad:
        raise BadText(bad)
    return clean(value, multiline=multiline)


def _syllable_key(word: str) -> str:
    """Move a syllable's tone mark to its end, so 'hoà' and 'hòa' give the same key."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(ch for ch in decomposed if ch in TONE_MARKS)
    base = "".join(ch for ch in decomposed if ch not in TONE_MARKS)
    return unicodedata.normalize("NFC", base) + tones


def place_key(value: str) -> str:
    """Key under which spellings of one place name count as one (tone kept, placement not)."""
    text = clean(value).casefold()
    return _WORD.sub(lambda m: _syllable_key(m.group(0)), text)


def classic_tones(value: str) -> str:
    """One spelling for names shown to people: the tone of open oa/oe/uy syllables on the
    first vowel ("Hoà Bình" -> "Hòa Bình"), as the gazetteer writes nearly all its units."""
    decomposed = unicodedata.normalize("NFD", value)
    return unicodedata.normalize("NFC", _NEW_PLACEMENT.sub(r"\1\3\2", decomposed))


def fold(value: str) -> str:
    """Accent- and case-insensitive form for searching ('Hoà Bình' -> 'hoa binh')."""
    decomposed = unicodedata.normalize("NFD", clean(value).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")
