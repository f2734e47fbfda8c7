"""What a reader can see of a text. Control characters (NUL, escape, line breaks inside a value)
and format characters (bidi overrides such as U+202E, zero-width spaces and joiners, the soft
hyphen) are invisible, or change how the text around them is shown: in a name they make two
identical-looking names differ, or a name display reversed on the counter screen. Combining marks
stacked on one letter ("zalgo" text) hide the letters under them.

A name or a street keeps what is visible (`visible_text`); an identifier, which must stay exactly
as its source wrote it, is refused when it holds anything invisible (`invisible_character`)."""

from __future__ import annotations

import re
import unicodedata

MAX_MARKS_PER_LETTER = 2
"""Combining marks kept on one letter after NFC. French letters compose to one character (é, ç, ô);
Vietnamese stacks two marks on one vowel at most (ệ): a third is never writing, it is defacing."""
_INVISIBLE_CATEGORIES = ("Cc", "Cf")
_CONTROL_SPACES = re.compile(r"[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]")


def invisible_character(text: str) -> str | None:
    """The first control or format character of `text`, as U+XXXX; None when every character shows."""
    if text.isascii() and text.isprintable():
        return None
    for char in text:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def visible_text(raw: str) -> str:
    """`raw` in NFC, line breaks and tabs made spaces, other control and format characters dropped,
    and at most MAX_MARKS_PER_LETTER combining marks on one letter."""
    text = unicodedata.normalize("NFC", raw)
    if text.isascii() and text.isprintable():
        return text
    text = _CONTROL_SPACES.sub(" ", text)
    kept: list[str] = []
    marks = 0
    for char in text:
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES:
            continue
        if category.startswith("M"):
            marks += 1
            if marks > MAX_MARKS_PER_LETTER:
                continue
        else:
            marks = 0
        kept.append(char)
    return "".join(kept)
