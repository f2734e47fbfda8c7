"""Field-by-field comparison of two records, as small declarative comparisons with ordered levels.

Each comparison gives a level index (0 = strongest agreement … last = disagreement) or NULL when a
side has no value; the model turns levels into weights. Names are compared in the orientation that
fits best (given/family swapped) and against the maiden name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import jellyfish

from analyzers.caching import batch_cached
from analyzers.phones import is_household_line
from search.resolve.config import (
    CLOSE_JW,
    MAILBOX_GENERIC_WORDS,
    MIN_IDENTIFIER_TYPO_LENGTH,
    MIN_MAILBOX_KEY_LENGTH,
    MIN_NAME_TYPO_LENGTH,
    MIN_TRUNCATION,
    MIN_TWO_TYPO_LENGTH,
    NEVER_MERGE_RULES,
    STREET_CLOSE_JW,
    VERY_CLOSE_JW,
)
from search.resolve.features import RecordFeatures

NULL = -1
NAME_DIFFERENT = 5  # the last of NAME_LEVELS

# Short forms agents and customers write for French compound given names.
NICKNAMES = {
    "jp": "jean pierre",
    "jc": "jean claude",
    "jm": "jean marc",
    "jl": "jean luc",
    "jf": "jean francois",
    "jj": "jean jacques",
    "pm": "pierre marie",
    "ma": "marie anne",
    "mc": "marie claire",
    "mf": "marie france",
}


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[str, ...]
    compare: Callable[[RecordFeatures, RecordFeatures], int]
    term_frequency: str | None = None  # the feature whose value frequency adjusts exact agreement
    tf_levels: tuple[int, ...] = (0,)  # the levels that are exact agreement on that value


# Not cached: the name levels above them are, and two streets or two phone numbers rarely meet twice.
def jaro_winkler(a: str, b: str) -> float:
    return jellyfish.jaro_winkler_similarity(a, b)


def _one_edit(a: str, b: str) -> bool:
    """One keystroke apart, a swap of neighbours included (Kai / Kia, Amber / Ambre)."""
    return abs(len(a) - len(b)) <= 1 and jellyfish.damerau_levenshtein_distance(a, b) == 1


def _two_edits(a: str, b: str) -> bool:
    """Two keystrokes apart in names long enough for that to be a typo: an OCR "rn" read for "m"
    ("Rnarie" / "Marie"), two slips in one name ("Dlorznce" / "Florence"). Jaro-Winkler misses them
    when the first letters differ; the never-merge rule must not read them as another person."""
    return min(len(a), len(b)) >= MIN_TWO_TYPO_LENGTH and jellyfish.damerau_levenshtein_distance(a, b) <= 2


def within_a_slip(a: str, b: str) -> bool:
    """As far apart as a slip takes a name: one keystroke, or two in a name long enough."""
    return _one_edit(a, b) or _two_edits(a, b)


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split() if word)


def _compatible_given(a: str, b: str) -> bool:
    """Jean-Pierre ~ JP, Jean-Pierre ~ Jean (one is the other's first words)."""
    if NICKNAMES.get(a) == b or NICKNAMES.get(b) == a:
        return True
    if len(a) <= 3 and " " in b and a.replace(" ", "") == _initials(b):
        return True
    if len(b) <= 3 and " " in a and b.replace(" ", "") == _initials(a):
        return True
    short, long_ = sorted((a, b), key=len)
    return " " in long_ and long_.startswith(short + " ")


def short_form(a: str, b: str) -> bool:
    """One name written short for the other: an initial ("C" / "Camille", "JP" / "Jean Pierre"),
    a truncation ("Christ" / "Christophe"), or one word of a compound ("Pierre" / "Jean Pierre")."""
    short, long_ = sorted((a, b), key=len)
    if not short:
        return False
    compact = short.replace(" ", "")
    if len(compact) <= 2 and (long_.startswith(compact) or compact == _initials(long_)):
        return True
    if len(short) >= MIN_TRUNCATION and long_.startswith(short):
        return True
    return " " in long_ and short in long_.split()


@batch_cached(maxsize=1 << 20)
def _name_level(a: str, b: str, a_ph: str, b_ph: str, given: bool) -> int:
    """0 exact, 1 same sound (or a nickname of it), 2 very close spelling, 3 close, 4 an initial or
    a short form of the other, 5 different."""
    if a == b:
        return 0
    if (a_ph and a_ph == b_ph) or (given and _compatible_given(a, b)):
        return 1
    similarity = jaro_winkler(a, b)
    if similarity >= VERY_CLOSE_JW or _one_edit(a, b):
        return 2
    if similarity >= CLOSE_JW or _two_edits(a, b):
        return 3
    if short_form(a, b):
        return 4
    return NAME_DIFFERENT


Names = tuple[str, str, str, str, str, str]


def _names(record: RecordFeatures) -> Names:
    return (record.given, record.given_ph, record.family, record.family_ph, record.birth, record.birth_ph)


def name_orientation(x: RecordFeatures, y: RecordFeatures) -> tuple[int, int]:
    """(given level, family level) in the orientation that fits best: as written, or swapped."""
    if not (x.given or x.family) or not (y.given or y.family):
        return NULL, NULL
    return _best_orientation(_names(x), _names(y))


@batch_cached(maxsize=1 << 20)
def _best_orientation(x: Names, y: Names) -> tuple[int, int]:
    # Names repeat across records (and pairs across runs), so the levels are cached per name pair.
    given, given_ph, family, family_ph, birth, birth_ph = x
    straight = _oriented(given, given_ph, family, family_ph, birth, birth_ph, y)
    if straight == (0, 0):
        return straight
    swapped = _oriented(family, family_ph, given, given_ph, birth, birth_ph, y)
    return swapped if _fit(swapped) < _fit(straight) else straight


def _fit(levels: tuple[int, int]) -> tuple[int, int]:
    """How well an orientation fits: the sum of its levels, then how few comparisons it misses."""
    given, family = levels
    return (given if given != NULL else 0) + (family if family != NULL else 0), (given == NULL) + (family == NULL)


def _oriented(given: str, given_ph: str, family: str, family_ph: str, birth: str, birth_ph: str, y: Names) -> tuple[int, int]:
    y_given, y_given_ph, y_family, y_family_ph, y_birth, y_birth_ph = y
    given_level = _name_level(given, y_given, given_ph, y_given_ph, True) if given and y_given else NULL
    # The family name, or the maiden name, against the other's family or maiden name: the best of them.
    family_level = NULL
    for a, a_ph in ((family, family_ph), (birth, birth_ph)):
        if not a:
            continue
        for b, b_ph in ((y_family, y_family_ph), (y_birth, y_birth_ph)):
            if b:
                level = _name_level(a, b, a_ph, b_ph, False)
                if family_level == NULL or level < family_level:
                    family_level = level
    return given_level, family_level


def given_name_level(x: RecordFeatures, y: RecordFeatures) -> int:
    return name_orientation(x, y)[0]


def family_name_level(x: RecordFeatures, y: RecordFeatures) -> int:
    return name_orientation(x, y)[1]


def birth_date_level(x: RecordFeatures, y: RecordFeatures) -> int:
    """0 same day, 1 day and month swapped, one digit off or one day apart (29 / 30, 31 / 01), 2
    same year, 3 different."""
    a, b = x.birth_date, y.birth_date
    if not a or not b:
        return NULL
    if a == b:
        return 0
    if (a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]) or _one_keystroke_date(a, b) or _one_day_apart(a, b):
        return 1
    if a[:4] == b[:4]:
        return 2
    return 3


def _one_day_apart(a: str, b: str) -> bool:
    try:
        return abs((date.fromisoformat(a) - date.fromisoformat(b)).days) == 1
    except ValueError:
        return False


def _one_keystroke_date(a: str, b: str) -> bool:
    """One digit changed, or two neighbouring digits swapped (1918 / 1981)."""
    differences = [k for k, (p, q) in enumerate(zip(a, b, strict=True)) if p != q]
    if len(differences) == 1:
        return True
    return (
        len(differences) == 2
        and differences[1] == differences[0] + 1
        and a[differences[0]] == b[differences[1]]
        and a[differences[1]] == b[differences[0]]
    )


def _identifier_level(a: str, b: str) -> int:
    """0 same, 1 one keystroke apart (a digit changed, dropped, added or swapped), 2 different."""
    if not a or not b:
        return NULL
    if a == b:
        return 0
    if len(a) >= MIN_IDENTIFIER_TYPO_LENGTH and _one_edit(a, b):
        return 1
    return 2


def email_level(x: RecordFeatures, y: RecordFeatures) -> int:
    """0 same address, 1 the same but unverified (its domain looks wrong), 2 one letter mistyped, 3
    the same mailbox name at another provider, 4 different.

    Level 3 is what a provider's change leaves (wanadoo.fr became orange.fr, club-internet.fr and
    free.fr were left, a company's domain renamed: the mailbox name is kept, the domain is not).
    It is its own level, weighed by EM like the others, because it is weaker than the same address
    and yet no plain difference either: an old record's e-mail at the former provider does not say
    another person. A mailbox made only of the records' names (jean.dupont@, jp.dupont@ for
    Jean-Pierre, dupont.jean.pro@: `_made_of_names`) exists at every provider for different people:
    it stays "different" (on bench.corruption, as level 3 it merged 5 homonym pairs of 1,079 on
    most settings). Level 3 still counts as what a namesake may share (evidence.NAMESAKE_LEVELS),
    and beside names alone as a plain difference (evidence.WEAK_LINK_BARRING_LEVELS). Mailbox names shorter than
    MIN_MAILBOX_KEY_LENGTH ("info", "contact") are left at "different", as blocking leaves them."""
    a, b = x.email, y.email
    if not a or not b:
        return NULL
    if a == b:
        return 1 if x.email_unverified or y.email_unverified else 0
    if jellyfish.levenshtein_distance(a, b) == 1 and _letters_differ(a, b):
        return 2
    if same_mailbox_elsewhere(a, b) and not _made_of_names(a.partition("@")[0], x, y):
        return 3
    return 4


def same_mailbox_elsewhere(a: str, b: str) -> bool:
    """Two addresses with the same mailbox name (long enough to be chosen by its owner) at two
    providers."""
    mailbox, _, domain = a.partition("@")
    other_mailbox, _, other_domain = b.partition("@")
    return mailbox == other_mailbox and domain != other_domain and len(mailbox) >= MIN_MAILBOX_KEY_LENGTH


def _made_of_names(mailbox: str, x: RecordFeatures, y: RecordFeatures) -> bool:
    """The mailbox name is only the two records' names, as any namesake spells them: split at its
    separators, each part is a run of name tokens of either record (a compound name's parts
    apart), their prefixes and initials (jp for Jean-Pierre, jdupont), a typo of one (jaen for
    Jean) or a generic word (pro, perso: MAILBOX_GENERIC_WORDS). Every namesake writes that at his
    own provider, so the same one at two providers says nothing of one person. A digit (a birth
    year, a number the provider gave, as the first namesake had the plain name) or a word of one's
    own makes it personal."""
    mailbox = mailbox.lower()
    if any(c.isdigit() for c in mailbox):
        return False
    tokens = {token for record in (x, y) for name in (record.given, record.family, record.birth) for token in name.split()}
    parts = [part for part in re.split(r"[^a-z]+", mailbox) if part]
    return bool(parts) and all(_spelled_from_names(part, tokens) for part in parts)


def _spelled_from_names(part: str, tokens: set[str]) -> bool:
    """Whether `part` is a run of pieces each a name token, a prefix of one, a typo of one or a
    generic word (_made_of_names)."""
    reached = [True] + [False] * len(part)
    for start in range(len(part)):
        if not reached[start]:
            continue
        for end in range(start + 1, len(part) + 1):
            if not reached[end] and _name_piece(part[start:end], tokens):
                reached[end] = True
    return reached[-1]


def _name_piece(piece: str, tokens: set[str]) -> bool:
    if piece in MAILBOX_GENERIC_WORDS:
        return True
    for token in tokens:
        if token.startswith(piece):
            return True
        if (
            len(token) >= MIN_NAME_TYPO_LENGTH
            and abs(len(token) - len(piece)) <= 1
            and jellyfish.damerau_levenshtein_distance(token, piece) == 1
        ):
            return True
    return False


def _letters_differ(a: str, b: str) -> bool:
    """Two strings one edit apart differ by letters, not by a separator or a digit: a mailbox's
    dots, underscores, hyphens and numbers are chosen by its owner ("philippe.bernard",
    "philippe_bernard", "philippebernard2" are three namesakes' addresses), a letter is mistyped."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return all(c.isalpha() for c in a[start : len(a) - end] + b[start : len(b) - end])


def phone_level(x: RecordFeatures, y: RecordFeatures) -> int:
    """0 same number, 1 the same digits but unverified (a range libphonenumber does not know), 2 one
    digit off, 3 different. EM weighs unverified agreement on its own."""
    level = _identifier_level(x.phone, y.phone)
    if level == 0:
        return 1 if x.phone_unverified or y.phone_unverified else 0
    return NULL if level == NULL else level + 1


def card_level(x: RecordFeatures, y: RecordFeatures) -> int:
    if not x.card or not y.card:
        return NULL
    return 0 if x.card == y.card else 1


def address_level(x: RecordFeatures, y: RecordFeatures) -> int:
    """One comparison for the whole address, since street, postcode and city agree together:
    0 same street in the same town, 1 nearly the same street there, 2 same postcode (a street
    missing on a side), 3 same postcode but each its own street (what a namesake or a neighbour
    shares), 4 same town or département, 5 elsewhere. NULL when the two hold no place to compare:
    one only a town, the other only a postcode (a loyalty card's town against an e-commerce
    postcode says nothing of where either lives, least of all "elsewhere")."""
    if not ((x.postcode and y.postcode) or (x.city and y.city)):
        return NULL
    same_town = (x.postcode and x.postcode == y.postcode) or (x.city and x.city == y.city)
    if same_town and x.street and y.street:
        if x.street == y.street:
            return 0
        if jaro_winkler(x.street, y.street) >= STREET_CLOSE_JW:
            return 1
    if x.postcode and x.postcode == y.postcode:
        return 3 if x.street and y.street else 2
    if same_town or (x.postcode and y.postcode and x.postcode[:2] == y.postcode[:2]):
        return 4
    return 5


def identifier_comparison(name: str) -> Comparison:
    return Comparison(
        name=f"id:{name}",
        levels=("exact", "one typo", "different"),
        compare=lambda x, y: _identifier_level(x.identifiers.get(name, ""), y.identifiers.get(name, "")),
    )


NAME_LEVELS = ("exact", "same sound", "very close", "close", "initial or short form", "different")

BASE_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("given_name", NAME_LEVELS, given_name_level, term_frequency="given"),
    Comparison("family_name", NAME_LEVELS, family_name_level, term_frequency="family"),
    Comparison("birth_date", ("exact", "swapped, one digit or one day", "same year", "different"), birth_date_level),
    Comparison(
        "email",
        ("exact", "exact unverified", "one typo", "same mailbox, another provider", "different"),
        email_level,
        term_frequency="email",
        tf_levels=(0, 1),
    ),
    Comparison("phone", ("exact", "exact unverified", "one digit", "different"), phone_level, term_frequency="phone", tf_levels=(0, 1)),
    Comparison("loyalty_card", ("exact", "different"), card_level),
    Comparison(
        "address",
        ("same street", "close street", "same postcode", "same postcode, another street", "same town or département", "elsewhere"),
        address_level,
    ),
)


def comparisons_for(extra_identifiers: tuple[str, ...] = ()) -> tuple[Comparison, ...]:
    return BASE_COMPARISONS + tuple(identifier_comparison(name) for name in extra_identifiers)


def comparison_vector(x: RecordFeatures, y: RecordFeatures, comparisons: tuple[Comparison, ...]) -> list[int]:
    given, family = name_orientation(x, y)
    return [given, family, *[comparison.compare(x, y) for comparison in comparisons[2:]]]


def clearly_different_people(
    x: RecordFeatures, y: RecordFeatures, rules: frozenset[str] = frozenset(NEVER_MERGE_RULES), given_names: frozenset[str] = frozenset()
) -> str | None:
    """Why two records cannot be one person whatever else they share, or None.

    Different birth dates (not a swap or a one-digit slip) mean homonyms; given names far apart in
    every orientation (not a typo, a sound-alike, a nickname, an initial or a short form: see
    _name_level) mean another member of the household; Monsieur and Madame are two people.
    A configured identifier (national id, customer number) that agrees outweighs all of these: it
    says the other fields were mistyped. For given names, so does an agreeing birth date with an
    agreeing e-mail, mobile or card, which a misheard name cannot explain away (not a landline:
    twins share it with their birth date).

    Close given names are two people too when each is a name of its own (`given_names`: names
    the data shows many families give, search.resolve.frequencies.given_names_of_their_own) and
    nothing personal agrees: Marie and Martine, Nicolas and Nicole of one household share the
    family name and the address, not a birth date, a phone, an e-mail or a card."""
    if not rules or _same_configured_identifier(x, y):
        return None
    birth = birth_date_level(x, y)
    if birth in (2, 3) and "different_birth_dates" in rules:
        return f"different birth dates ({x.birth_date} / {y.birth_date})"
    if x.sex and y.sex and x.sex != y.sex and x.given != y.given and "different_sex" in rules:
        # Jean and Jeanne, Louis and Louise sound alike and often share an address.
        return "Monsieur and Madame"
    if (
        "different_given_names" in rules
        and given_name_level(x, y) == NAME_DIFFERENT
        and not (birth == 0 and _shares_contact_or_near_identifier(x, y))
        and not one_name_written_two_ways(x.given, y.given, given_names)
    ):
        return "different given names"
    if "different_given_names" in rules and _names_of_their_own(x, y, given_names) and not _shares_personal_value(x, y, birth):
        return "different given names"
    return None


def one_name_written_two_ways(a: str, b: str, given_names: frozenset[str]) -> bool:
    """Two given names far apart that are each a slip or a short form of one name of its own
    (`given_names`): "Lucass" and "Ljccas" are both Lucas mistyped, "H" and "Jerve" both Hervé. A
    slip on each record takes the two spellings three or four keystrokes apart, past what one
    name's level reads as close, yet nothing says two people: the never-merge rule is for names
    that are truly different (issue 16, item 6). A name of its own stands only for itself, so Emma
    and Anna, or a son's name and his father's, stay two names; with no names of their own known
    (small data) nothing is read this way."""
    if not a or not b or not given_names:
        return False
    return bool(own_names_read_in(a, given_names) & own_names_read_in(b, given_names))


def own_names_read_in(name: str, given_names: frozenset[str]) -> frozenset[str]:
    """The names of their own a written given name may stand for: itself when it is one, else
    those it is a slip of (`within_a_slip`) or a short form of (an initial, a truncation; never
    the other way: "Jeannine" is not a way of writing Jean)."""
    if name in given_names and not _written_as_initials(name):
        return frozenset((name,))
    return _OwnNames.of(given_names).read_in(name)


class _OwnNames:
    """The names of their own, indexed so that a written name finds those it may stand for without
    comparing it with each (the real-time path checks a pushed record's pairs with no batch cache
    open): by their spellings with up to two letters left out (two names a slip apart, two edits at
    most, share one such spelling — but for two swaps of neighbours in one name, which it misses)
    and by their starts, initials and words (the short forms).
    Kept for the last set of names seen: names of their own are the model's (written under many
    families), not one customer's values."""

    _last: tuple[frozenset[str], _OwnNames] | None = None

    def __init__(self, given_names: frozenset[str]) -> None:
        self.by_deletion: dict[str, set[str]] = {}
        self.by_short_form: dict[str, set[str]] = {}
        for own in given_names:
            if _written_as_initials(own):
                continue
            for spelling in _two_deletions(own):
                self.by_deletion.setdefault(spelling, set()).add(own)
            compact = own.replace(" ", "")
            forms = {compact[:end] for end in range(1, len(compact))} | {own[:end] for end in range(1, len(own))}
            forms |= {_initials(own)} | set(own.split())
            for form in forms:
                self.by_short_form.setdefault(form, set()).add(own)

    @classmethod
    def of(cls, given_names: frozenset[str]) -> _OwnNames:
        if cls._last is None or (cls._last[0] is not given_names and cls._last[0] != given_names):
            cls._last = (given_names, cls(given_names))
        return cls._last[1]

    def read_in(self, name: str) -> frozenset[str]:
        slipped = {own for spelling in _two_deletions(name) for own in self.by_deletion.get(spelling, ())}
        short = self.by_short_form.get(name, set()) | self.by_short_form.get(name.replace(" ", ""), set())
        return frozenset(
            {own for own in slipped if abs(len(own) - len(name)) <= 2 and within_a_slip(name, own)}
            | {own for own in short if len(name) < len(own) and short_form(name, own)}
        )


def _two_deletions(written: str) -> set[str]:
    """A name with none, one or two of its letters left out."""
    once = {written[:k] + written[k + 1 :] for k in range(len(written))}
    return {written} | once | {shorter[:k] + shorter[k + 1 :] for shorter in once for k in range(len(shorter))}


def _written_as_initials(name: str) -> bool:
    """Initials ("H", "J P"): written under many families (agents type them), yet no name of its
    own; two letters at most, as `short_form` reads an initial."""
    return len(name.replace(" ", "")) <= 2


def _names_of_their_own(x: RecordFeatures, y: RecordFeatures, given_names: frozenset[str]) -> bool:
    """Two given names, each a name of its own, neither the other's sound, nickname, initials or
    truncation, nor one keystroke from it (a slip can make a name of its own: "Amrie" is written
    under many families when Marie is common and typos are frequent). One word of a compound is
    a name of its own too: Jean and Jean-Marc of one household are father and son."""
    a, b = x.given, y.given
    if a == b or a not in given_names or b not in given_names or _one_edit(a, b):
        return False
    if x.given_ph == y.given_ph or NICKNAMES.get(a) == b or NICKNAMES.get(b) == a:
        return False
    if (" " in a) != (" " in b) and (a in b.split() or b in a.split()):
        return given_name_level(x, y) != 0
    if _compatible_given(a, b) or short_form(a, b):
        return False
    return given_name_level(x, y) != 0  # a swapped orientation may put the same name in both


def _shares_personal_value(x: RecordFeatures, y: RecordFeatures, birth: int) -> bool:
    """A birth date (or a slip of it) or a contact value both records hold: what one person's
    records share and the members of a household do not."""
    return birth in (0, 1) or _shares_contact_or_near_identifier(x, y)


def _same_configured_identifier(x: RecordFeatures, y: RecordFeatures) -> bool:
    """A configured identifier equal, or one keystroke apart with the same full name."""
    for name, value in x.identifiers.items():
        level = _identifier_level(value, y.identifiers.get(name, ""))
        if level == 0 or (level == 1 and x.given == y.given and x.family == y.family):
            return True
    return False


def _shares_contact_or_near_identifier(x: RecordFeatures, y: RecordFeatures) -> bool:
    """An e-mail, a mobile, a card or a near identifier both records hold: one person's. Not a
    landline (analyzers.phones.is_household_line): twins, or a mother and her daughter, share the
    household's line and, twins, their birth date; a given name far apart says two of them."""
    return bool(
        (x.email and x.email == y.email)
        or (x.phone and x.phone == y.phone and not is_household_line(x.phone))
        or (x.card and x.card == y.card)
        or any(_identifier_level(value, y.identifiers.get(name, "")) == 1 for name, value in x.identifiers.items())
    )
