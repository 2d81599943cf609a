"""Vietnamese text helpers: search folding and the sort order of Vietnamese names.

Pure functions, no Django: the same key sorts identically on SQLite and on PostgreSQL whatever the
database collation, because it is made of ASCII digits only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

# The Vietnamese alphabet, with the Latin letters it lacks (f, j, w, z) where Latin puts them.
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_CODE = {letter: f"{10 + index:02d}" for index, letter in enumerate(ALPHABET)}
_DIGIT_CODE = {str(d): f"0{d}" for d in range(10)}  # "00" and "01" are taken below: digits rarely occur
_WORD_GAP = "01"
_PART_GAP = "00"

# Tones in dictionary order: level, grave (huyền), hook (hỏi), tilde (ngã), acute (sắc), dot (nặng).
_TONE_MARKS = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
# Marks that make a letter of their own (ă, â, ê, ô, ơ, ư) rather than a tone.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}


def fold(text: str | None) -> str:
    """Lower-case text without diacritics, for searching: "Nguyễn Văn Đức" -> "nguyen van duc"."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def _syllable(word: str) -> tuple[list[str], str]:
    """Split a word into its letters (tone removed, letter marks kept) and its tone digit."""
    tone = "0"
    letters = []
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONE_MARKS:
            tone = _TONE_MARKS[ch]
        elif ch in _LETTER_MARKS and letters:
            letters[-1] = unicodedata.normalize("NFC", letters[-1] + ch)
        elif not unicodedata.combining(ch):
            letters.append(ch)
    return letters, tone


def _encode(words: Sequence[str]) -> tuple[str, str]:
    codes, tones = [], []
    for position, word in enumerate(words):
        letters, tone = _syllable(word)
        if position:
            codes.append(_WORD_GAP)
        codes.extend(_LETTER_CODE.get(ch) or _DIGIT_CODE.get(ch, "") for ch in letters)
        tones.append(tone)
    return "".join(codes), "".join(tones)


def split_name(full_name: str | None) -> tuple[str, str]:
    """("Nguyễn Văn", "An") for "Nguyễn Văn An": the given name is the last word."""
    words = (full_name or "").split()
    if not words:
        return "", ""
    return " ".join(words[:-1]), words[-1]


def name_sort_key(full_name: str | None) -> str:
    """A key that sorts names the Vietnamese way: by given name, then the rest, letters before tones.

    Letters compare in the Vietnamese alphabet (a < ă < â < b ... d < đ < e ...); tones only break
    ties, in dictionary order. The key is digits only, so any database collation agrees.
    """
    words = (full_name or "").split()
    if not words:
        return ""
    given_codes, given_tones = _encode(words[-1:])
    rest_codes, rest_tones = _encode(words[:-1])
    return f"{given_codes}{_PART_GAP}{rest_codes}{_PART_GAP}{given_tones}{rest_tones}"


def _title_tokens(word: str) -> tuple[str, str]:
    """Letters of a word as codes, runs of digits as one zero-padded number, so that 2 < 10."""
    letters, tone = _syllable(word)
    codes, digits = [], ""
    for ch in [*letters, None]:
        if ch is not None and ch.isdigit():
            digits += ch
            continue
        if digits:
            codes.append(f"{_NUMBER_MARK}{int(digits):09d}"[-11:])
            digits = ""
        if ch is not None and ch in _LETTER_CODE:
            codes.append(_LETTER_CODE[ch])
    return "".join(codes), tone


_NUMBER_MARK = "01"


def title_sort_key(title: str | None) -> str:
    """A key that sorts titles (organisation names) word by word in the Vietnamese alphabet, with
    numbers in numeric order: "Tổ dân phố số 2" before "Tổ dân phố số 10". Digits only, like
    `name_sort_key`."""
    codes, tones = [], []
    for word in (title or "").split():
        word_codes, tone = _title_tokens(word)
        codes.append(word_codes)
        tones.append(tone)
    return f"{_PART_GAP.join(codes)}{_PART_GAP}{_PART_GAP}{''.join(tones)}"[:600]
