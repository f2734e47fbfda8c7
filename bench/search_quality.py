"""Look-up quality: `python -m bench.search_quality [--records 1000000] [--persons 500] [--data both]`.

`--data both` measures the independent corruption model first (the less flattering: its sources
misspell, abbreviate and swap names the way real systems do) and then the demo generator, and ends
with recall @1 / @5 per family of kinds (FAMILIES: name, name + town, initial + name, prefix, typo
at the start, phone, card, e-mail, birth date with name…) for both side by side.

Over the `rcu-bench-search` indices built by `bench.search` (the same data set, ingested and
resolved) — or, with `--data robustness`, over people drawn by the robustness benchmark's
independent corruption model (bench.corruption), ingested and resolved into indices of their own —
people of the data set's ground truth are looked up the ways the counter types them:
full name, given name first, type-ahead prefixes, without accents, with one typo in the family
name, a typo on a first letter, two letters swapped at the start, a phone as a source wrote it
(and those libphonenumber does not accept), a family name and a town, a name and the full birth
date (which the counter agent may only verify), and namesakes looked up by an agent whose shop
issued the person's loyalty card. A look-up finds the person when a golden customer holding one of
the person's records is in the results. Printed per kind of query: recall at 1, 5 and 10, and
queries sent. The queries go straight to OpenSearch with the API's request body for the counter
agent (the API adds nothing to the ranking). Homonyms share every name: when two people are called
the same, only one can come first, so recall at 1 is bounded below 100% ("first*" also counts a
namesake in first place when the person is in the top 10).

Where a look-up is made only of whole names, beginnings of names and town words ("mar du",
"j dupont", "nicolas limoges"), every customer those words fit as they fit the person is an equally
right answer (fits_as_well): "@1=" and "@5=" count the chance the person would be in the first one
(five) if they and the customers above them were shuffled, when only such customers rank above them
(nothing when the person is not listed), besides the strict "@1" and "@5". Customers fitting only
with given and family names swapped are not such equals (the engine weighs the two fields
differently): "swap^" counts the look-ups where one ranks above the person. A name and a birth date the
counter verifies are asked for people one of whose records holds that date: an exact check cannot,
and must not, confirm a date no record holds — those people are looked up apart, and the customers
confirmed by mistake counted (UNVERIFIABLE); the kind over everyone with a birth date, its
denominator before session 10, is printed as its own line (OLD_VERIFY_DENOMINATOR).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analyzers.dates import mistyped_dates, parse_birth_date
from analyzers.emails import canonical_email
from analyzers.errors import InvalidValue
from analyzers.names import compact_name, fold_text, name_tokens
from analyzers.phones import to_e164
from api.policy import DEMO_POLICY, Policy
from bench.crowds import CROWD_SIZE, Crowd, by_chance_at, ceiling_at, crowd_of
from bench.datasets import demo_persons, demo_truth
from bench.harness import demo_data, ensure_node, machine
from bench.search import BENCH_PREFIX, prepare
from indexers.readers import SourceFiles
from search.access import FieldAccess
from search.client import sync_client
from search.customer_query import plan_lookup
from search.lookup import after_first_tier, fallback_needed, search_body
from search.query_parser import parse_query


@dataclass
class Person:
    person_id: str
    given_name: str
    family_name: str
    birth_date: str
    records: set[str] = field(default_factory=set)
    phones: list[str] = field(default_factory=list)  # as the sources wrote them
    city: str = ""  # of the most recently updated record holding an address
    postcode: str = ""  # of that same record
    birth_names: list[str] = field(default_factory=list)  # maiden names the sources wrote, when not the family name
    emails: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    shops: list[str] = field(default_factory=list)  # shops whose loyalty card the person holds
    shop_visits: dict[str, str] = field(default_factory=dict)  # shop → when its latest record of the person was updated
    namesakes: int = 0  # other people of the data set with the same given and family name
    latest_visit_of: list[str] = field(default_factory=list)  # shops where namesakes hold cards too, and this person's record is the latest
    record_birth_dates: set[str] = field(default_factory=set)  # the birth dates (ISO) the person's records hold


# A look-up: what the agent types and the agent's shop, or None when the person gives nothing to type.
LookUp = tuple[str, str | None] | None


def _typo(word: str, rng: random.Random) -> str:
    """One edit after the first letter (the search forgives one typo, first letter kept)."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word))
    kind = rng.choice(("substitute", "delete", "swap"))
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "swap" and at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    letter = rng.choice([c for c in "aeioulnrst" if c != word[at].lower()])
    return word[:at] + letter + word[at + 1 :]


# First letters misheard at the counter or on the phone (Gabriel/Cabriel, Guillaume/Kuillaume).
MISHEARD = {"g": "ck", "c": "gk", "k": "cg", "b": "pv", "p": "b", "d": "t", "t": "d", "v": "fb", "f": "v", "m": "n", "n": "m", "s": "cz"}


def _first_letter_typo(word: str, rng: random.Random) -> str:
    """The first letter misheard (a letter that sounds alike) or, for others, mistyped."""
    first = word[0].lower()
    letter = rng.choice(MISHEARD.get(fold_text(first), "aeioulnrst".replace(first, "")))
    return (letter.upper() if word[0].isupper() else letter) + word[1:]


def _early_swap(word: str, rng: random.Random) -> str:
    """Two letters swapped at the start: "Perret" → "ePrret" or "Prerret"."""
    at = rng.choice((0, 1)) if len(word) > 3 else 0
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def _french_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _mistyped_date(iso: str, rng: random.Random) -> str:
    """The birth date as a customer or agent may get it wrong: day and month swapped (when that is
    a date), one digit changed, or two adjacent digits swapped."""
    born = date.fromisoformat(iso)
    near = mistyped_dates(born)
    swapped = born.strftime("%m/%d/%Y")
    if born.day <= 12 and born.day != born.month and rng.random() < 0.3:
        return swapped
    return _french_date(rng.choice(near)) if near else _french_date(iso)


def _unverified(phone: str) -> bool:
    """Digits of a phone the agent would type, which libphonenumber does not accept."""
    digits = sum(ch.isdigit() for ch in phone)
    try:
        to_e164(phone, "FR")
    except InvalidValue:
        return digits >= 9
    return False


def _names(p: Person) -> str:
    return f"{p.given_name} {p.family_name}"


def _iso_date(raw: str) -> str:
    """A birth date as a source wrote it, ISO (empty when unreadable)."""
    try:
        return parse_birth_date(raw).isoformat()
    except InvalidValue:
        return ""


def _verifiable(p: Person) -> bool:
    """One of the person's records holds their birth date: an exact check can confirm them."""
    return bool(p.birth_date) and p.birth_date in p.record_birth_dates


OLD_VERIFY_DENOMINATOR = "name + birth date (verify), all dated"
QUERIES: dict[str, Callable[[Person, random.Random], LookUp]] = {
    "family given": lambda p, rng: (f"{p.family_name} {p.given_name}", None),
    "given family": lambda p, rng: (_names(p), None),
    "prefixes (4+2)": lambda p, rng: (f"{p.family_name[:4]} {p.given_name[:2]}".lower(), None),
    "no accents, lower": lambda p, rng: (fold_text(f"{p.family_name} {p.given_name}"), None),
    "typo in family name": lambda p, rng: (f"{_typo(p.family_name, rng)} {p.given_name}", None),
    "first-letter typo": lambda p, rng: (
        f"{p.given_name} {_first_letter_typo(p.family_name, rng)}"
        if rng.random() < 0.5
        else f"{_first_letter_typo(p.given_name, rng)} {p.family_name}",
        None,
    ),
    "early transposition": lambda p, rng: (f"{p.given_name} {_early_swap(p.family_name, rng)}", None) if len(p.family_name) >= 3 else None,
    "phone as typed": lambda p, rng: (rng.choice(p.phones), None) if p.phones else None,
    "unverified phone": lambda p, rng: (rng.choice(odd), None) if (odd := [x for x in p.phones if _unverified(x)]) else None,
    "family + town": lambda p, rng: (f"{p.family_name} {p.city}".lower(), None) if p.city else None,
    "name + birth date (verify)": lambda p, rng: (f"{_names(p)} {_french_date(p.birth_date)}", None) if _verifiable(p) else None,
    # The kind's denominator before session 10: everyone with a birth date, ~20% of whom no record
    # holds it (kept as its own line, out of the totals, so the change of denominator shows).
    OLD_VERIFY_DENOMINATOR: lambda p, rng: (f"{_names(p)} {_french_date(p.birth_date)}", None) if p.birth_date else None,
    "name + birth date, call center": lambda p, rng: (f"{_names(p)} {_french_date(p.birth_date)}", None) if p.birth_date else None,
    "name + mistyped birth date, call center": lambda p, rng: (
        (f"{_names(p)} {_mistyped_date(p.birth_date, rng)}", None) if p.birth_date else None
    ),
    "shop namesakes, no shop": lambda p, rng: (_names(p), None) if p.shops and p.namesakes else None,
    "shop namesakes": lambda p, rng: (_names(p), rng.choice(p.shops)) if p.shops and p.namesakes else None,
    "shop namesakes, seen last, no shop": lambda p, rng: (_names(p), None) if p.latest_visit_of else None,
    "shop namesakes, seen last": lambda p, rng: (_names(p), rng.choice(p.latest_visit_of)) if p.latest_visit_of else None,
    "prefixes (4+2), cardholders, no shop": lambda p, rng: (f"{p.family_name[:4]} {p.given_name[:2]}".lower(), None) if p.shops else None,
    "prefixes (4+2), cardholders, shop": lambda p, rng: (
        (f"{p.family_name[:4]} {p.given_name[:2]}".lower(), rng.choice(p.shops)) if p.shops else None
    ),
}

# Spellings an agent writes from hearing a name, one rule each (written apart from
# analyzers.phonetic: the look-up's phonetic key must find them, not define them).
SOUNDS_ALIKE = (
    ("ph", "f"),
    ("f", "ph"),
    ("qu", "k"),
    ("c", "k"),
    ("k", "c"),
    ("eau", "o"),
    ("au", "o"),
    ("o", "au"),
    ("ai", "e"),
    ("ei", "e"),
    ("y", "i"),
    ("i", "y"),
    ("ll", "l"),
    ("l", "ll"),
    ("tt", "t"),
    ("t", "tt"),
    ("nn", "n"),
    ("n", "nn"),
    ("ss", "s"),
    ("s", "ss"),
    ("rr", "r"),
    ("mm", "m"),
    ("th", "t"),
    ("ch", "sh"),
    ("gu", "g"),
    ("an", "en"),
    ("en", "an"),
    ("ez", "es"),
    ("et", "ez"),
    ("er", "ez"),
    ("d", "t"),
    ("z", "s"),
    ("x", "s"),
    ("h", ""),
    ("ç", "s"),
    ("e", "é"),
    ("é", "e"),
)


def _sounds_alike(word: str, rng: random.Random) -> str | None:
    """The word written as heard: one sound spelled another way ("Philippe" → "Filippe",
    "Gauthier" → "Gothier"), or None when no rule applies."""
    lowered = word.lower()
    options = [
        (at.start(), old, new)
        for old, new in SOUNDS_ALIKE
        for at in re.finditer(re.escape(old), lowered)
        if at.start() > 0 or old[0] not in "h"
    ]
    if not options:
        return None
    at, old, new = rng.choice(options)
    return word[:at] + new + word[at + len(old) :]


def _phone_retyped(phone: str, rng: random.Random) -> str | None:
    """A phone as an agent may key it from what the customer reads out: without its leading 0,
    with the international prefix, in pairs with dots or with no separator."""
    try:
        e164 = to_e164(phone, "FR")
    except InvalidValue:
        return None
    if not e164.startswith("+33") or len(e164) != 12:
        return None
    national = e164[3:]
    pairs = lambda digits: " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))  # noqa: E731
    forms = (
        national,
        f"{national[0]} {pairs(national[1:])}",
        f"0033 {national}",
        f"+33 (0){national}",
        ".".join(pairs("0" + national).split()),
    )
    return rng.choice(forms)


def _email_typo(email: str, rng: random.Random) -> str:
    """One edit in the e-mail's local part (the part before @), as keyed from dictation."""
    local, _, domain = email.lower().partition("@")
    return f"{_typo(local, rng) if len(local) >= 4 else local}@{domain}"


def _one_part(family: str) -> str | None:
    """One part of a hyphenated or compound family name (the one a customer gives when asked fast)."""
    parts = [part for part in re.split(r"[-\s]+", family) if len(part) >= 3]
    return parts[-1] if len(parts) >= 2 else None


MORE_QUERIES: dict[str, Callable[[Person, random.Random], LookUp]] = {
    "prefixes, given first (3+3)": lambda p, rng: (f"{p.given_name[:3]} {p.family_name[:3]}".lower(), None),
    "initial + family": lambda p, rng: (f"{p.given_name[0]} {p.family_name}".lower(), None),
    "family + initial": lambda p, rng: (f"{p.family_name} {p.given_name[0]}".lower(), None),
    "sounds alike": lambda p, rng: (f"{p.given_name} {heard}", None) if (heard := _sounds_alike(p.family_name, rng)) else None,
    "one part of a compound name": lambda p, rng: (f"{p.given_name} {part}", None) if (part := _one_part(p.family_name)) else None,
    "maiden name": lambda p, rng: (f"{p.given_name} {rng.choice(p.birth_names)}", None) if p.birth_names else None,
    "given + town": lambda p, rng: (f"{p.given_name} {p.city}".lower(), None) if p.city else None,
    "name + postcode (verify)": lambda p, rng: (f"{p.family_name} {p.given_name} {p.postcode}", None) if p.postcode else None,
    "name + departement": lambda p, rng: (
        (f"{p.family_name} {p.given_name} {p.postcode[:2]}", None)
        if p.postcode[:2].isdigit() and p.postcode[:2] not in ("96", "97", "98", "99", "00", "20")
        else None
    ),
    "phone retyped": lambda p, rng: (typed, None) if p.phones and (typed := _phone_retyped(rng.choice(p.phones), rng)) else None,
    "card number": lambda p, rng: (" ".join(re.findall(".{1,4}", rng.choice(p.cards))), None) if p.cards else None,
    "e-mail with a typo, call center": lambda p, rng: (_email_typo(rng.choice(p.emails), rng), None) if p.emails else None,
}
QUERIES.update(MORE_QUERIES)

# Kinds added in session 16 (issue 17's held-out misses named by the kind an agent types): kept out
# of the older totals so those stay comparable with bench/RESULTS.md's earlier sections.
SESSION_16_KINDS: dict[str, Callable[[Person, random.Random], LookUp]] = {
    "given family + town": lambda p, rng: (f"{_names(p)} {p.city}".lower(), None) if p.city else None,
    "e-mail as written, call center": lambda p, rng: (
        (rng.choice(valid), None) if (valid := [e for e in p.emails if _an_email(e)]) else None
    ),
}


def _an_email(written: str) -> bool:
    """An e-mail a source wrote that is one ("franck.jorrisen@", cut short, is kept by no index)."""
    try:
        canonical_email(written)
    except InvalidValue:
        return False
    return True


QUERIES.update(SESSION_16_KINDS)

# The kinds grouped as an agent thinks of what they type; each data set's recall per family is
# printed side by side at the end of a `--data both` run.
FAMILIES: dict[str, tuple[str, ...]] = {
    "name": (
        "family given",
        "given family",
        "no accents, lower",
        "typo in family name",
        "sounds alike",
        "one part of a compound name",
        "maiden name",
    ),
    "name + town": ("family + town", "given + town", "given family + town"),
    "name + postcode or département": ("name + postcode (verify)", "name + departement"),
    "initial + name": ("initial + family", "family + initial"),
    "prefix": ("prefixes (4+2)", "prefixes, given first (3+3)"),
    "typo at the start": ("first-letter typo", "early transposition"),
    "phone": ("phone as typed", "unverified phone", "phone retyped"),
    "card": ("card number",),
    "e-mail": ("e-mail as written, call center", "e-mail with a typo, call center"),
    "birth date with name": ("name + birth date (verify)", "name + birth date, call center", "name + mistyped birth date, call center"),
    "namesakes, shop named": ("shop namesakes", "shop namesakes, seen last", "prefixes (4+2), cardholders, shop"),
}

# The kinds issue 17 added, and those left out of the totals: compared with and without the agent's
# shop, and the verified birth date over its old denominator.
NEW_KINDS = (
    "first-letter typo",
    "early transposition",
    "unverified phone",
    "family + town",
    "name + birth date (verify)",
    "name + birth date, call center",
    "name + mistyped birth date, call center",
    "shop namesakes",
)
WITHOUT_SHOP = (
    OLD_VERIFY_DENOMINATOR,
    "shop namesakes, no shop",
    "prefixes (4+2), cardholders, no shop",
    "prefixes (4+2), cardholders, shop",
    "shop namesakes, seen last, no shop",
    "shop namesakes, seen last",
)
# Kinds of the second pass (bench/RESULTS.md, 2026-11-27) left out of its "all kinds" total.
CALL_CENTER_KINDS = ("name + birth date, call center", "name + mistyped birth date, call center")
# The role whose request body a kind is sent with: the counter agent unless named here.
KIND_ROLES = {
    "name + birth date, call center": "callcenter",
    "name + mistyped birth date, call center": "callcenter",
    "e-mail with a typo, call center": "callcenter",
    "e-mail as written, call center": "callcenter",
}


def demo_people(records: int) -> list[Person]:
    """The demo data set's people with their record ids, phones, town, shops and namesakes."""
    folder = demo_data(records)
    people = {
        row["person_id"]: Person(row["person_id"], row["given_name"], row["family_name"], row["birth_date"]) for row in demo_persons(folder)
    }
    payloads = (line.payload for line in SourceFiles.discover([folder]).lines() if line.payload)
    return _with_records(people, payloads, demo_truth(folder))


ROBUSTNESS_PREFIX = "rcu-bench-search-robustness"


def robustness_people(count: int, seed: int) -> list[Person]:
    """People drawn by the robustness benchmark's corruption model (bench.corruption, written apart
    from the demo generator, baseline knobs), their records ingested and resolved into the
    ROBUSTNESS_PREFIX indices once (kept between runs)."""
    from bench.corruption.dataset import corpus
    from bench.corruption.knobs import Knobs
    from indexers.ingest import Ingestion
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from search.client import bulk_client
    from search.indices import IndexNames
    from search.resolve.config import ResolutionConfig
    from search.resolve.pipeline import resolve_all

    made = corpus(Knobs(people=count), seed)
    settings = ensure_node()
    client = bulk_client(settings)
    if not client.indices.exists(index=f"{ROBUSTNESS_PREFIX}-{count}-{seed}-customers"):
        names = IndexNames.for_settings(settings.model_copy(update={"index_prefix": f"{ROBUSTNESS_PREFIX}-{count}-{seed}"}))
        folder = settings.home / "bench-data" / f"robustness-{count}-seed-{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "records.jsonl", "w", encoding="utf-8") as stream:
            stream.writelines(json.dumps(record.payload, ensure_ascii=False) + "\n" for record in made.records)
        with RejectsReport(folder / "rejects.jsonl") as report:
            print(Ingestion(client, names, report).run(SourceFiles.discover([folder / "records.jsonl"])).line())
        print(resolve_all(client, names, ResolutionConfig()).line())
    people = {p.person_id: Person(p.person_id, p.given, p.family, p.birth_date.isoformat()) for p in made.population.people}
    return _with_records(people, (record.payload for record in made.records), made.truth)


def _with_records(people: dict[str, Person], payloads: Iterable[dict[str, Any]], truth: dict[str, str]) -> list[Person]:
    """`people` with their records' ids, phones, latest town and shops, and their namesakes
    counted; only those holding records."""
    latest_address: dict[str, str] = {}
    for payload in payloads:
        record_id = f"{payload.get('source')}:{payload.get('source_id')}"
        person = people.get(truth.get(record_id, ""))
        if person is None:
            continue
        person.records.add(record_id)
        if payload.get("phone"):
            person.phones.append(str(payload["phone"]))
        if payload.get("city") and str(payload.get("updated_at", "")) >= latest_address.get(person.person_id, ""):
            latest_address[person.person_id] = str(payload.get("updated_at", ""))
            person.city = str(payload["city"])
            person.postcode = str(payload.get("postcode") or "")
        for name, values in (("birth_name", person.birth_names), ("email", person.emails), ("loyalty_card", person.cards)):
            value = str(payload.get(name) or "")
            if value and value not in values and fold_text(value) != fold_text(person.family_name):
                values.append(value)
        if payload.get("birth_date"):
            person.record_birth_dates.add(_iso_date(str(payload["birth_date"])))
        source = str(payload.get("source", ""))
        if source.startswith("loyalty_") and source.removeprefix("loyalty_") not in person.shops:
            person.shops.append(source.removeprefix("loyalty_"))
        if source.startswith("loyalty_"):
            shop, at = source.removeprefix("loyalty_"), str(payload.get("updated_at", ""))
            person.shop_visits[shop] = max(at, person.shop_visits.get(shop, ""))
    names = Counter(fold_text(_names(p)) for p in people.values())
    for person in people.values():
        person.namesakes = names[fold_text(_names(person))] - 1
    _latest_visitors(people.values())
    return [p for p in people.values() if p.records]


def _latest_visitors(people: Iterable[Person]) -> None:
    """Marks, per shop, the person its records saw last among namesakes holding that shop's card."""
    latest: dict[tuple[str, str], Person] = {}
    for person in people:
        for shop, at in person.shop_visits.items():
            key = (fold_text(_names(person)), shop)
            if key not in latest or at > latest[key].shop_visits[shop]:
                latest[key] = person
    cardholders = Counter(key for person in people for key in ((fold_text(_names(person)), shop) for shop in person.shop_visits))
    for (name, shop), person in latest.items():
        if cardholders[(name, shop)] > 1:
            person.latest_visit_of.append(shop)


@dataclass
class Recall:
    sent: int = 0
    first: int = 0
    namesake_first: int = 0
    top5: int = 0
    top10: int = 0
    first_or_as_good: float = 0.0
    top5_or_as_good: float = 0.0
    swapped_above: int = 0
    # What the look-ups could reach (bench.crowds): one customer per person of the crowd first
    # (ceiling) and the crowd shuffled (chance); 1 for a look-up only the person fits.
    ceiling1: float = 0.0
    ceiling5: float = 0.0
    chance1: float = 0.0
    chance5: float = 0.0

    def add(
        self, ranks: list[int], namesake_first: bool, as_good: list[bool], swapped: list[bool] | None = None, crowd: Crowd | None = None
    ) -> None:
        """One look-up: the ranks of the person's customers, whether a namesake came first, per
        hit whether it is the person or fits what was typed as well (fits_as_well, names in the
        person's order), per hit whether it fits as well only with given and family names
        swapped (counted apart: the engine ranks the two orders differently), and the crowd
        fitting it as well (None: the person alone is right)."""
        crowd = crowd or Crowd(customers=1, own=1, persons=1)
        self.ceiling1 += ceiling_at(1, crowd)
        self.ceiling5 += ceiling_at(5, crowd)
        self.chance1 += by_chance_at(1, crowd)
        self.chance5 += by_chance_at(5, crowd)
        self.sent += 1
        self.first += bool(ranks) and ranks[0] == 0
        self.namesake_first += bool(ranks) and (ranks[0] == 0 or namesake_first)
        self.top5 += bool(ranks) and ranks[0] < 5
        self.top10 += bool(ranks)
        self.first_or_as_good += _right_at(1, ranks, as_good)
        self.top5_or_as_good += _right_at(5, ranks, as_good)
        above = ranks[0] if ranks else len(as_good)
        self.swapped_above += any((swapped or [])[:above])

    def merge(self, other: Recall) -> None:
        for name in RECALL_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self, kind: str) -> str:
        if not self.sent:
            return f"{kind:<40}" + f"{'–':>8}" * 11 + f"{0:6d}"
        rates = (
            self.first,
            self.namesake_first,
            self.top5,
            self.top10,
            self.first_or_as_good,
            self.top5_or_as_good,
            self.swapped_above,
            self.ceiling1,
            self.ceiling5,
            self.chance1,
            self.chance5,
        )
        return f"{kind:<40}" + "".join(f"{value / self.sent:8.1%}" for value in rates) + f"{self.sent:6d}"


RECALL_COUNTS = tuple(name for name in Recall.__dataclass_fields__)


def _right_at(k: int, ranks: list[int], as_good: list[bool]) -> float:
    """The chance the person would be in the first k if they and the customers ranked above
    them, all fitting what was typed as well (no ranking can tell them apart), were shuffled
    among themselves: 1 when the person is in the first k, k / (rank + 1) below that, 0 when
    any worse fit ranks above them or the person is not listed at all."""
    if not ranks:
        return 0.0
    if ranks[0] < k:
        return 1.0
    return k / (ranks[0] + 1) if all(as_good[: ranks[0]]) else 0.0


LIST_SIZE = 10


# What a typed word is to a person or customer: a whole word of their given or family name (which
# is also a beginning of it), the beginning of one, or a word of their town.
def _word_relations(word: str, given: str, family: str, city: str) -> frozenset[str]:
    relations: set[str] = set()
    for name, value in (("given", given), ("family", family)):
        words = name_tokens(value)
        if word in words:
            relations.update((name, f"{name} beginning"))
        elif any(part.startswith(word) for part in words) or compact_name(value).startswith(word):
            relations.add(f"{name} beginning")
    if word in name_tokens(city):
        relations.add("town")
    return frozenset(relations)


def fits_as_well(words: list[str], person: Person, customer: dict[str, Any], shop: str | None, swapped: bool = False) -> bool:
    """Whether the customer fits the name words typed at least as the person's own names and
    town do: each word a whole name, a beginning or a town word wherever it is one for the
    person, the customer's given and family names in the person's roles — or, `swapped`, the
    customer's given name read as the family name and back (the counter types names both ways,
    but the engine weighs the two fields differently, so those equals are counted apart) — and
    a cardholder of the agent's shop when one is named. Only for look-ups every word of which is
    such a part of the person's names or town — a prefix, an initial, a whole name: a typo fits
    nothing exactly, and there the person alone is right."""
    if shop and f"loyalty_{shop}" not in {card.get("source") for card in customer.get("loyalty_cards") or []}:
        return False
    own = [_word_relations(word, person.given_name, person.family_name, person.city) for word in words]
    given, family, city = (str(customer.get(name) or "") for name in ("given_name", "family_name", "city"))
    first, last = (family, given) if swapped else (given, family)
    theirs = [_word_relations(word, first, last, city) for word in words]
    return all(mine <= other for mine, other in zip(own, theirs, strict=True))


def _explained(words: list[str], person: Person) -> bool:
    """Every word typed is a whole name, a beginning of one or a town word of the person's."""
    return bool(words) and all(_word_relations(word, person.given_name, person.family_name, person.city) for word in words)


def _shown(customer: dict[str, Any]) -> str:
    """A customer found, as a missed look-up is printed (synthetic people only)."""
    fields = ("given_name", "family_name", "birth_date", "postcode", "city")
    return " | ".join(str(customer.get(name, "")) for name in fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=500, help="People sampled per kind of query.")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--data",
        choices=("demo", "robustness", "both"),
        default="demo",
        help="demo: the demo generator's data set of --records, as bench.search builds it; robustness: --people drawn by "
        "the robustness benchmark's corruption model (bench.corruption), in indices of their own; both: the corruption "
        "model first (the less flattering), then the demo set, and recall per family of kinds side by side.",
    )
    parser.add_argument("--people", type=int, default=20_000, help="People drawn by the corruption model (--data robustness).")
    parser.add_argument("--kinds", default="", help="Only these kinds of query (names separated by ';').")
    parser.add_argument("--misses", type=int, default=0, help="Print up to this many look-ups per kind not finding the person first.")
    parser.add_argument(
        "--no-ceilings",
        action="store_true",
        help="Skip the crowd searches (one of CROWD_SIZE customers per look-up, most of a run's time): recall only, every "
        "ceiling and chance printed as 100%%.",
    )
    args = parser.parse_args()
    print(machine())
    ensure_node()
    runs = {"corruption model": "robustness", "demo generator": "demo"} if args.data == "both" else {args.data: args.data}
    measured = {}
    for title, data in runs.items():
        print(f"\n== {title} ==")
        measured[title] = measure(data, args)
    if len(measured) > 1:
        print_families(measured)


def measure(data: str, args: argparse.Namespace) -> dict[str, Recall]:
    """Every kind of query over one data set, printed per kind (and its misses, up to --misses):
    the recall per kind and the totals."""
    wanted = [kind for kind in args.kinds.split(";") if kind]
    settings = ensure_node()
    if data == "demo":
        if not sync_client(settings).indices.exists(index=f"{BENCH_PREFIX}-customers"):
            prepare(args.records, rebuild=False)
        people, index = demo_people(args.records), f"{BENCH_PREFIX}-customers"
    else:
        people, index = robustness_people(args.people, args.seed), f"{ROBUSTNESS_PREFIX}-{args.people}-{args.seed}-customers"
    client = sync_client(settings)
    roles = Policy.load(DEMO_POLICY).roles
    print(f"{len(people)} people with records; up to {args.persons} per kind of query, the counter agent's request body")
    columns = ("@1", "first*", "@5", "@10", "@1=", "@5=", "swap^", "ceil@1", "ceil@5", "rand@1", "rand@5")
    print(f"{'query':<40}" + "".join(f"{name:>8}" for name in columns) + f"{'sent':>6}")
    print("  first*: or first is a namesake and the person is in the top 10; @k=: the chance the person is in the first k")
    print("  when they and the customers above them, all fitting what was typed as well (fits_as_well: look-ups made only of")
    print("  whole names, beginnings and town words, counter's kinds; names in the person's order), are shuffled; 0 when the")
    print("  person is not listed; swap^: look-ups where a customer fitting as well only with names swapped ranks above the person")
    print("  ceil@k: the best a ranking can reach not knowing who is at the counter, one customer per person of the crowd fitting")
    print("  the look-up as well first (bench.crowds); rand@k: that crowd shuffled; both 1 where the person alone fits")
    totals = {
        "all kinds": Recall(),
        "all kinds before session 16": Recall(),
        "issue 17's kinds": Recall(),
        "kinds before session 9": Recall(),
    }
    per_kind: dict[str, Recall] = {}
    for kind, make in QUERIES.items():
        if wanted and kind not in wanted:
            continue
        recall = per_kind[kind] = _measure_kind(
            client, index, people, roles[KIND_ROLES.get(kind, "counter")].field_access(), kind, make, args
        )
        print(recall.line(kind))
        if kind not in WITHOUT_SHOP:
            totals["all kinds"].merge(recall)
            if kind not in SESSION_16_KINDS:
                totals["all kinds before session 16"].merge(recall)
            if kind not in MORE_QUERIES and kind not in CALL_CENTER_KINDS and kind not in SESSION_16_KINDS:
                totals["kinds before session 9"].merge(recall)
        if kind in NEW_KINDS:
            totals["issue 17's kinds"].merge(recall)
    for name, recall in totals.items():
        print(recall.line(name))
    if not wanted or UNVERIFIABLE in wanted:
        _unverifiable_dates(client, index, roles["counter"].field_access(), people, args)
    client.close()
    return {**per_kind, **totals}


def _measure_kind(
    client: Any,
    index: str,
    people: list[Person],
    access: FieldAccess,
    kind: str,
    make: Callable[[Person, random.Random], LookUp],
    args: argparse.Namespace,
) -> Recall:
    """Up to --persons look-ups of one kind, drawn with the kind's own seeded generator."""
    rng = random.Random(f"{args.seed}-{kind}")
    owners = _owners(people)
    eligible = [(person, look_up) for person in people if (look_up := make(person, rng))]
    recall = Recall()
    missed = 0
    for person, (text, shop) in rng.sample(eligible, min(args.persons, len(eligible))):
        hits = _hits(client, index, access, text, shop)
        ranks = [rank for rank, hit in enumerate(hits) if person.records & set(hit["_source"].get("records", []))]
        first = hits[0]["_source"] if hits else {}
        namesake = fold_text(f"{first.get('given_name', '')} {first.get('family_name', '')}") == fold_text(_names(person))
        words = name_tokens(parse_query(text).names)
        # A birth date ranks for the call center: there a namesake born another day fits less.
        equals = kind not in KIND_ROLES and _explained(words, person)
        as_good = [rank in ranks or (equals and fits_as_well(words, person, hit["_source"], shop)) for rank, hit in enumerate(hits)]
        swapped = [
            not good and equals and fits_as_well(words, person, hit["_source"], shop, swapped=True)
            for good, hit in zip(as_good, hits, strict=True)
        ]
        crowd = _crowd(client, index, access, text, shop, person, words, owners) if equals and not args.no_ceilings else None
        if kind == OLD_VERIFY_DENOMINATOR and not _verifiable(person):
            # No record holds the date typed: the exact check must not confirm them, and the
            # ceiling is 0 (the kind's 17.5% "never found" in session 17 were these, its ceiling 1).
            crowd = Crowd(customers=1, own=0, persons=1, reachable=False)
        recall.add(ranks, namesake, as_good, swapped, crowd)
        if (not ranks or ranks[0] > 0) and not namesake and missed < args.misses:
            missed += 1
            mine = hits[ranks[0]]["_source"] if ranks else {}
            print(
                f"  missed {text!r} shop={shop} rank={ranks[0] + 1 if ranks else '-'} first={_shown(first)} as good={as_good[:1]}"
                f" crowd={_crowd_shown(crowd)} records first/person={_kept(first)}/{_kept(mine) if ranks else '-'}"
            )
    return recall


def _owners(people: list[Person]) -> dict[str, str]:
    """Record id → the person it is of."""
    return {record: person.person_id for person in people for record in person.records}


def _crowd(
    client: Any, index: str, access: FieldAccess, text: str, shop: str | None, person: Person, words: list[str], owners: dict[str, str]
) -> Crowd:
    """Every customer the look-up's first tier finds that fits what was typed as well as the
    person (bench.crowds), up to CROWD_SIZE."""
    plan = plan_lookup(parse_query(text), access, **({"shop": shop} if shop else {}))
    if plan.query is None:
        return Crowd(customers=1, own=0, persons=1)
    hits = client.search(index=index, body=search_body(plan.query, access, CROWD_SIZE))["hits"]["hits"]
    return crowd_of(hits, person.records, owners, lambda customer: fits_as_well(words, person, customer, shop))


def _crowd_shown(crowd: Crowd | None) -> str:
    if crowd is None:
        return "-"
    return f"{crowd.customers}{'+' if crowd.cut else ''}/{crowd.persons}p/{crowd.own}own"


def _kept(customer: dict[str, Any]) -> str:
    """How much a customer's records say: records, systems, latest update (synthetic people only)."""
    return f"{customer.get('record_count', 0)}r{len(customer.get('sources') or [])}s{str(customer.get('updated_at') or '')[:7]}"


def print_families(measured: dict[str, dict[str, Recall]]) -> None:
    """Recall @1 / @5 per family of kinds (FAMILIES) and the totals, one column per data set, in
    the order measured (the corruption model first)."""
    titles = list(measured)
    print("\n== per family of kinds, @1 / @5 against the ceiling @1 / @5 (bench.crowds; sent) ==")
    print(f"{'family':<34}" + "".join(f"{title:>40}" for title in titles))
    rows = {family: [_merged(found, kinds) for found in measured.values()] for family, kinds in FAMILIES.items()}
    rows.update({total: [found.get(total, Recall()) for found in measured.values()] for total in ("all kinds", "issue 17's kinds")})
    for family, recalls in rows.items():
        print(f"{family:<34}" + "".join(f"{_pair(recall):>40}" for recall in recalls))


def _merged(found: dict[str, Recall], kinds: tuple[str, ...]) -> Recall:
    total = Recall()
    for kind in kinds:
        if kind in found:
            total.merge(found[kind])
    return total


def _pair(recall: Recall) -> str:
    if not recall.sent:
        return "–"
    found = f"{recall.first / recall.sent:.3f} / {recall.top5 / recall.sent:.3f}"
    return f"{found} ≤ {recall.ceiling1 / recall.sent:.3f} / {recall.ceiling5 / recall.sent:.3f} ({recall.sent})"


# The counter verifying a birth date none of the person's records holds (a record left it out, or
# holds another day): the exact check must not confirm them. Measured apart, not a recall.
UNVERIFIABLE = "name + a birth date no record holds (verify)"


def _unverifiable_dates(client: Any, index: str, access: FieldAccess, people: list[Person], args: argparse.Namespace) -> None:
    rng = random.Random(f"{args.seed}-{UNVERIFIABLE}")
    eligible = [person for person in people if person.birth_date and not _verifiable(person)]
    sample = rng.sample(eligible, min(args.persons, len(eligible)))
    confirmed = sum(
        any(
            person.records & set(hit["_source"].get("records", []))
            for hit in _hits(client, index, access, f"{_names(person)} {_french_date(person.birth_date)}", None)
        )
        for person in sample
    )
    share = len(eligible) / max(1, len(eligible) + sum(_verifiable(person) for person in people))
    print(
        f"{UNVERIFIABLE}: {len(eligible)} people ({share:.1%} of those with a birth date); confirmed by mistake {confirmed} of {len(sample)}"
    )


def _hits(client: Any, index: str, access: FieldAccess, text: str, shop: str | None) -> list[dict[str, Any]]:
    """The customers found for `text`, as the API asks (the second tier when the first finds no one)."""
    plan = plan_lookup(parse_query(text), access, **({"shop": shop} if shop else {}))
    hits = [] if plan.query is None else client.search(index=index, body=search_body(plan.query, access, LIST_SIZE))["hits"]["hits"]
    if fallback_needed(plan, hits, LIST_SIZE):
        assert plan.fallback is not None
        second = client.search(index=index, body=search_body(plan.fallback, access, LIST_SIZE))["hits"]["hits"]
        hits = after_first_tier(hits, second, LIST_SIZE)
    return hits


if __name__ == "__main__":
    main()
