"""French postal addresses: street types spelled out, postcodes checked, keys for comparison."""

from __future__ import annotations

import re

from analyzers.caching import batch_cached
from analyzers.errors import InvalidValue
from analyzers.names import fold_text
from analyzers.visible import visible_text

# Abbreviations as they appear in source systems → the full street word (La Poste's list, the usual ones).
STREET_ABBREVIATIONS: dict[str, str] = {
    "all": "allée",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "bvd": "boulevard",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "crs": "cours",
    "fg": "faubourg",
    "fbg": "faubourg",
    "imp": "impasse",
    "lot": "lotissement",
    "pass": "passage",
    "pl": "place",
    "qu": "quai",
    "r": "rue",
    "res": "résidence",
    "rte": "route",
    "sq": "square",
    "sent": "sentier",
    "tra": "traverse",
    "vla": "villa",
}
NUMBER_SUFFIXES = {"bis", "ter", "quater", "a", "b", "c", "d"}
SAINTS: dict[str, str] = {"st": "saint", "ste": "sainte"}
_WORD = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
_SPACES = re.compile(r"\s+")
FRENCH_POSTCODE = re.compile(r"^\d{5}$")


ABBREVIATION_LENGTH = max(len(short) for short in (*STREET_ABBREVIATIONS, *SAINTS))


def _spelled_out(word: str, table: dict[str, str]) -> str:
    bare = word.rstrip(".")
    if len(bare) > ABBREVIATION_LENGTH:  # most words of a street: no need to fold them to know
        return word
    full = table.get(fold_text(bare))
    if full is None:
        return word
    return full[:1].upper() + full[1:] if word[:1].isupper() else full


def expand_street_types(street: str) -> str:
    """ "12 av. Jean Jaurès" → "12 avenue Jean Jaurès"; "r St-Denis" → "rue Saint-Denis".

    Only the street type itself (the first word) is spelled out, so "rue du Lot" keeps its river;
    St and Ste stand for Saint and Sainte anywhere."""
    first = next((w for w in _WORD.finditer(street) if fold_text(w.group(0).rstrip(".")) not in NUMBER_SUFFIXES), None)
    if first is None:
        return street
    head = street[: first.start()] + _spelled_out(first.group(0), {**STREET_ABBREVIATIONS, **SAINTS})
    tail = _WORD.sub(lambda match: _spelled_out(match.group(0), SAINTS), street[first.end() :])
    return head + tail


@batch_cached(maxsize=1 << 16)
def normalize_street(raw: str) -> str:
    """The display street: what is visible of it (analyzers.visible), single spaces, abbreviations of
    street types spelled out."""
    text = _SPACES.sub(" ", visible_text(raw)).strip().strip(",")
    return expand_street_types(text)


@batch_cached(maxsize=1 << 18)
def street_key(raw: str) -> str:
    """Folded street for comparison: number kept, street types spelled out, punctuation dropped."""
    folded = fold_text(normalize_street(raw))
    return " ".join(re.findall(r"[a-z0-9]+", folded))


def normalize_postcode(raw: str, country: str | None = "FR") -> str:
    """A French postcode is five digits with a real department (01–95, Corsica 20, overseas 97–98)."""
    text = re.sub(r"\s+", "", raw)
    if (country or "FR").upper() != "FR":
        if not text:
            raise InvalidValue("empty postcode")
        return text.upper()
    if len(text) == 4 and text.isdigit():
        # Spreadsheets drop the leading zero of Ain, Aisne … Ardennes postcodes (01000 → 1000).
        text = "0" + text
    if not FRENCH_POSTCODE.match(text):
        raise InvalidValue(f"not a French postcode: {raw.strip()[:20]!r}")
    department = int(text[:2])
    if department == 0 or department == 96 or department > 98:
        raise InvalidValue(f"no French department {text[:2]} for postcode {text}")
    return text
