"""Namesakes under one roof, counted in the data: when one contact of one's own says two people.

A son named after his father shares the full name, the address and the landline with him ("père
et fils"); what each owns is a mobile, an e-mail, a birth date. When two groups of records of one
name at one address hold nothing personal in common and only one kind of contact differs (a
mobile each, or an e-mail each), they are either one person who changed number (or holds a second
line) or two namesakes of one home. Which is likelier is not a constant: it depends on how many
namesakes live under one roof in this data and how often one person's contacts change in it. Both
are counted from the candidate pairs being resolved, the birth date as the witness, no labels:

- `share` (λ): among candidate pairs of one full name at one address holding both birth dates,
  the share whose birth dates lie a generation apart (15 years or more), less what one person's birth-date errors explain (the
  same share among such pairs vouched by one e-mail or identifier, as search.resolve.calibration
  reads it). Its lower end at 95% confidence against the upper end of the errors', so that data
  holding no namesakes at home (or too few pairs to say) shows none, and the rule below is inert.
- `differ_one[kind]`: among those pairs whose birth dates agree (one person), the share whose
  mobiles (e-mails) plainly differ (search.resolve.personal.personal_evidence) — a new number,
  a second line, a typo beyond one digit, as often as this data has them.
- `differ_two[kind]`: among those whose birth dates plainly differ (two people), the same share.

Both are counted per home (the records the pairs of one name at one address join), not per record
pair: a father and his son with five records each are one home of namesakes, not 25 pairs born
apart, so the 95% bounds read as many homes as the data holds. And one person's contacts of a kind
are counted where the rule would read them: among his pairs on which no other contact (the other
kind, a card, an identifier) agrees, since the rule reads only groups on which nothing personal
agrees — a man who keeps his mailbox and changes his mobile never reaches it, one who changes both
at once does.

Members of one home whose given names are near but not one (NEAR: "M." for Michel and for his
mother Martine, Christian and Christine) are counted the same way, as their own kind of home: λ
from the pairs of near given names and one family name at one address (`near_share`); the shares
of differing contacts are those of the full name's homes (one person's contacts change alike
whatever his name is written as).

- `differ_one["source:<name>"]` / `differ_two[...]`: among one person's (two namesakes') pairs with
  a record in that source and no contact agreeing, the share with both records in it — how often
  this data's system holds one person twice, against how often it holds each of two people of one
  home (SOURCE). A father's sparse CRM line "Pascal Joly, 75013" beside his son's full CRM record
  (bench.corruption, father namesakes 1.0: 46 of the 64 household record pairs merged through a
  record of household values only had a source on both sides) is two accounts of one system.

Two groups whose records hold nothing personal in common, of which one pair shares the full name
(or the family name with near given names: then λ is `near_share`) and the address (or the
postcode, a side leaving the street out), with a kind of contact differing or (one full name only)
a source holding a record of each, are then one person with probability

    (1 − λ)·Π differ_one / ((1 − λ)·Π differ_one + λ·Π differ_two)

over the kinds that differ, the odds raised by the order of their dated contact records when one
side's all predate the other's (a change leaves them so; two people's records fall so by chance
only: 2 / C(n + m, n)). Below the match threshold the two are held apart
(never-merge rule `namesakes_at_home`): a possible match a steward decides, never a silent merge.
The same threshold a pair's probability must reach to be linked.

Measured on bench.corruption (5,000 people, seed 1; one full name and one street, exact): with
sons named after their fathers at 0.3, 137 of 2,065 such pairs are two people, birth dates differ
on all 55 of theirs that hold two and on none of one person's 686; one person's mobiles differ in
38 of 857 pairs, two namesakes' in 57 of 57; at the baseline and on 20-year timelines no pair of
two people, no birth date differing: λ = 0, nothing held.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from search.resolve.comparisons import NULL, Comparison, address_level, name_orientation
from search.resolve.features import RecordFeatures
from search.resolve.personal import PersonalEvidence, holds_contact, holds_mobile, personal_evidence, seen_together

SAME = (0, 1)  # exact or same-sounding name; same or nearly the same street in the same town
# Where the rule reads two groups as of one home: what λ was counted on (SAME), or one postcode where
# a side leaves the street out (address_level 2: a shop's card, a call-center line often keeps the
# postcode only). bench.corruption, father namesakes 0.3 / 1.0: households merged 0.56% → 0.39%,
# 1.38% → 1.01%, recall −0.0025 / −0.0034 (session 18); λ = 0, nothing moves, on every other setting.
ONE_HOME = (0, 1, 2)
# Given names that are near but not one name (comparisons.NAME_LEVELS: very close, close, an initial
# or a short form): one person's slip, or two people of one home ("M." for Michel and for Martine,
# Christian and Christine, Marie-Claire and Marie-Thérèse). Counted as their own kind of home.
NEAR = (2, 3, 4)
BIRTH_AGREES, BIRTH_DIFFERS = (0, 1), (2, 3)
KINDS = ("mobile", "email")
# "One system holds each": a record of each group from one source. A CRM, a web shop or a shop's
# loyalty program holds one account per person, so one person's two records in one system are that
# system's duplicates, as often as this data's system holds one person twice (`differ_one` of
# "source:<name>": among one person's pairs with a record in it, the share with both in it), while two
# namesakes of one home are each in it as often as people are (`differ_two`, the same among two
# people's pairs). Per source: a call-center log holding each call holds one person many times.
# Counted like a kind of contact that differs, over the pairs on which no contact agrees.
SOURCE = "source:"
# Born "apart" means a generation apart: one person's birth-date errors (a day, a month, a swapped
# or mistyped digit of the year's end) then stay out of λ, so a source with noisy birth dates does not
# read as namesakes at home. 15 years: the least age gap between a parent and a child, not fitted.
GENERATION_YEARS = 15
# The confidence of the interval λ is read at: the usual 95% (two-sided), not fitted to a data set.
Z_95 = 1.96


@dataclass(frozen=True)
class NamesakesAtHome:
    """What the data says of namesakes under one roof (module docstring); stored with the model."""

    share: float  # λ: the share of two people among pairs of one full name at one address
    differ_one: dict[str, float]  # kind → the share of one person's such pairs whose values of it differ
    differ_two: dict[str, float]  # kind → the same among two namesakes' pairs
    homes: int  # homes (one full name at one address) whose pairs hold both birth dates
    born_apart: int  # among them, homes where two birth dates lie a generation apart
    # The same for near given names (NEAR) and one family name at one address: λ, homes, born apart.
    near_share: float = 0.0
    near_homes: int = 0
    near_born_apart: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> NamesakesAtHome | None:
        if not data:
            return None
        if "pairs" in data:  # a model trained before session 18 counted record pairs, not homes
            data = {("homes" if key == "pairs" else key): value for key, value in data.items()}
        return cls(**data)

    def weighs(self, kind: str) -> bool:
        """Whether the estimate holds shares for `kind` (a model stored before session 19 holds none
        for a source, nor does one for a source none of its homes' pairs touched: no evidence)."""
        return kind in self.differ_one and kind in self.differ_two

    def one_system(self, sources: set[str]) -> str | None:
        """Of the sources holding a record of each of two groups, the kind (SOURCE + name) that
        tells two people least (the highest share of one person held twice against two people's),
        None when none is weighed."""
        kinds = [SOURCE + source for source in sorted(sources) if self.weighs(SOURCE + source)]
        return max(kinds, key=lambda kind: self.differ_one[kind] / self.differ_two[kind], default=None)

    def one_person(self, kinds: list[str], order_odds: float = 1.0, near: bool = False) -> float:
        """The probability that two groups of one name at one address whose `kinds` of contact
        differ, nothing personal agreeing, are one person; `order_odds` the likelihood ratio of
        their records' order in time; `near` when their given names are near, not one (NEAR)."""
        two = self.near_share if near else self.share
        one = (1 - two) * order_odds
        for kind in kinds:
            if not self.weighs(kind):
                continue
            one *= self.differ_one[kind]
            two *= self.differ_two[kind]
        return one / (one + two) if one + two else 1.0

    def describe(self) -> str:
        shares = ", ".join(f"{k} differs {self.differ_one[k]:.1%} / {self.differ_two[k]:.1%}" for k in self.differ_one if self.weighs(k))
        return (
            f"{self.born_apart} of {self.homes} homes of one name at one address born apart: namesakes at home {self.share:.1%}; {shares}"
        )


def estimate_namesakes_at_home(
    records: list[RecordFeatures], pairs: np.ndarray, vectors: np.ndarray, comparisons: tuple[Comparison, ...]
) -> NamesakesAtHome | None:
    """λ and the shares of differing contacts (module docstring) from the candidate pairs; None
    when no pair of one full name at one address holds two birth dates. Counted per home (`_homes`),
    not per record pair: a father and his son with five records each are one home of namesakes, not
    25 pairs born apart, and one man with many records weighs as much as one with two."""
    if not len(vectors):
        return None
    column = {c.name: i for i, c in enumerate(comparisons)}
    birth = vectors[:, column["birth_date"]]
    home = np.isin(vectors[:, column["family_name"]], SAME) & np.isin(vectors[:, column["address"]], SAME) & (birth != NULL)
    given = vectors[:, column["given_name"]]
    full, near = home & np.isin(given, SAME), home & np.isin(given, NEAR)
    if not np.any(full) and not np.any(near):
        return None
    units, share = _count_homes(records, pairs, birth, np.nonzero(full)[0])
    near_units, near_share = _count_homes(records, pairs, birth, np.nonzero(near)[0])

    def laplace(side: str, kind: str) -> float:
        # each home's share of its pairs of that side (one person; two people) whose values of the kind differ
        shares = [t.differ_share(side, kind) for t in units if t.compared(side, kind)]
        return (sum(shares) + 1) / (len(shares) + 2)

    # A source weighs only where homes of both sides (one person; two namesakes) hold it: on a side
    # no home shows, the prior alone (one half) would read "two people" wherever the other is low.
    seen = {side: {kind for t in units for s, kind in t.counts if s == side and kind.startswith(SOURCE)} for side in ("one", "two")}
    sources = sorted(seen["one"] & seen["two"])
    kinds = [*KINDS, *sources]
    return NamesakesAtHome(
        share=share,
        differ_one={kind: laplace("one", kind) for kind in kinds},
        differ_two={kind: laplace("two", kind) for kind in kinds},
        homes=len(units),
        born_apart=sum(t.born_apart for t in units),
        near_share=near_share,
        near_homes=len(near_units),
        near_born_apart=sum(t.born_apart for t in near_units),
    )


def _count_homes(records: list[RecordFeatures], pairs: np.ndarray, birth: np.ndarray, rows: np.ndarray) -> tuple[list[_HomeTally], float]:
    """Each home's tally over the candidate pairs `rows`, and λ: the share of homes born apart, read
    at the lower end of its 95% Wilson interval, less what one person's birth-date errors explain
    (the upper end of the same share among homes vouched one person by a contact)."""
    if not len(rows):
        return [], 0.0
    tally: dict[int, _HomeTally] = defaultdict(_HomeTally)
    for k, unit in zip(rows.tolist(), _homes(pairs[rows]), strict=True):
        x, y = records[int(pairs[k, 0])], records[int(pairs[k, 1])]
        tally[unit].add(x, y, personal_evidence(x, y), int(birth[k]) in BIRTH_DIFFERS and _generation_apart(x, y))
    units = list(tally.values())
    vouched = [t for t in units if t.vouched]
    error_high = _wilson(sum(t.error for t in vouched), len(vouched), +1)
    apart_low = _wilson(sum(t.born_apart for t in units), len(units), -1)
    return units, max(0.0, (apart_low - error_high) / (1 - error_high)) if error_high < 1 else 0.0


def _homes(pairs: np.ndarray) -> list[int]:
    """Per pair of records of one full name at one address, its home: the records its pairs join
    (union-find), so that one father and the son named after him, or one man's records, are one."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        root = parent.setdefault(i, i)
        while root != parent[root]:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for i, j in pairs.tolist():
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in pairs[:, 0].tolist()]


@dataclass
class _HomeTally:
    """What one home's pairs say: whether any is born a generation apart; whether any is vouched
    one person by a contact (and born apart all the same: a birth-date error); per side ("one":
    birth dates agreeing, "two": apart) and kind, how many pairs were compared where the rule
    would read them — both hold the kind and no other contact agrees (the rule applies only when
    nothing personal agrees) — and how many of those differ."""

    born_apart: bool = False
    vouched: bool = False
    error: bool = False
    counts: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, x: RecordFeatures, y: RecordFeatures, evidence: PersonalEvidence, born_apart: bool) -> None:
        self.born_apart |= born_apart
        if evidence.contact_agrees:  # one person by what a household does not share: his birth dates' errors
            self.vouched = True
            self.error |= born_apart
            if born_apart:
                return
        side = "two" if born_apart else "one"
        for kind, held, differs in (
            ("mobile", holds_mobile(x) and holds_mobile(y), evidence.mobiles_differ),
            ("email", bool(x.email and y.email), evidence.emails_differ),
        ):
            if held and not evidence.others_agree(kind):
                self.counts[side, kind][0] += differs
                self.counts[side, kind][1] += 1
        if not evidence.contact_agrees:  # where the rule reads one system holding each: nothing of one's own agreeing
            for source in {x.source, y.source} - {""}:
                self.counts[side, SOURCE + source][0] += x.source == y.source
                self.counts[side, SOURCE + source][1] += 1

    def compared(self, side: str, kind: str) -> bool:
        return (side, kind) in self.counts

    def differ_share(self, side: str, kind: str) -> float:
        differ, compared = self.counts[side, kind]
        return differ / compared


def _generation_apart(x: RecordFeatures, y: RecordFeatures) -> bool:
    """Whether two birth dates lie a generation apart (GENERATION_YEARS or more between their years):
    a father and his son, never one person's slip of a day, a month or a digit of the year's end."""
    try:
        return abs(int(x.birth_date[:4]) - int(y.birth_date[:4])) >= GENERATION_YEARS
    except (TypeError, ValueError):
        return False


def _wilson(successes: int, trials: int, side: int) -> float:
    """The Wilson score interval's lower (`side` −1) or upper (+1) end for a share; 0 or 1 with no trials."""
    if not trials:
        return 0.0 if side < 0 else 1.0
    p = successes / trials
    z2 = Z_95 * Z_95
    centre = p + z2 / (2 * trials)
    spread = Z_95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return min(1.0, max(0.0, (centre + side * spread) / (1 + z2 / trials)))


def namesakes_apart(
    namesakes: NamesakesAtHome, evidence: list[PersonalEvidence], a: list[RecordFeatures], b: list[RecordFeatures], threshold: float
) -> bool:
    """Whether two groups of records (`a`, `b`; `evidence` per record pair between them) are less
    likely one person than `threshold`: nothing personal agrees, a kind of contact differs, one
    of their record pairs shares the full name and the address (module docstring)."""
    if (namesakes.share <= 0 and namesakes.near_share <= 0) or any(e.agrees for e in evidence):
        return False
    kinds = [
        kind
        for kind, differs in (("mobile", any(e.mobiles_differ for e in evidence)), ("email", any(e.emails_differ for e in evidence)))
        if differs
    ]
    system = namesakes.one_system({r.source for r in a} & {r.source for r in b})
    home = _one_home(a, b) if kinds or system else None
    # One system holding each is read for one full name only: a system's own duplicates of one
    # person are likeliest where its entry check missed them, under another spelling or an initial
    # ("M. Dupont" beside "Michel Dupont" in one web shop), which the full name's homes do not count.
    kinds += [system] if system and home == "full" else []
    if home is None or not kinds:
        return False
    dated_a, dated_b = [r for r in a if holds_contact(r)], [r for r in b if holds_contact(r)]
    return namesakes.one_person(kinds, _order_odds(dated_a, dated_b), near=home == "near") < threshold


def _one_home(a: list[RecordFeatures], b: list[RecordFeatures]) -> str | None:
    """ "full" when a record of each side shares the full name and the address (ONE_HOME), else
    "near" when a record of each shares the family name and the address with near given names
    (NEAR), else None."""
    near = False
    for x in a:
        for y in b:
            if address_level(x, y) not in ONE_HOME:
                continue
            given, family = name_orientation(x, y)
            if family in SAME and given in SAME:
                return "full"
            near |= family in SAME and given in NEAR
    return "near" if near else None


def _order_odds(a: list[RecordFeatures], b: list[RecordFeatures]) -> float:
    """How much likelier one person is made by the order of the two sides' contact records: all of
    one side's before all of the other's is what a change of contact leaves, and what two people's
    records do by chance with probability 2 / C(n + m, n). Otherwise, or undated: no evidence (one
    person holding two lines at once is counted in differ_one already)."""
    if seen_together(a, b):
        return 1.0
    return math.comb(len(a) + len(b), len(a)) / 2
