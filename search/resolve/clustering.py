"""Clusters that never chain two different people together, in three steps (cluster()).

1. `_join_corroborated`: links whose evidence goes beyond names (search.resolve.evidence),
   strongest first. Two groups merge only if no record of one is clearly another person than a
   record of the other (never-merge rules: homonyms with other birth dates, household members with
   other given names), so A~B and B~C never pull A and C together when A and C are two people.
2. `_fitting_groups`: links resting on names alone, between the groups step 1 made. Two groups fit
   each other when such a link joins them, no never-merge rule holds them apart, and their other
   records do not disagree as often as they are linked (a name is not an identifier), nor hold a
   mobile or an e-mail of each side's own that differ, nothing personal nor a place agreeing:
   names alone never outvote those, however many pairs of records share them.
   Records holding only what a household shares (a name, an address, a landline, a shop's card:
   search.resolve.personal.holds_household_values_only) come last (`_join_household_records`):
   the others' groups formed, such a record joins the customers it links to, unless two of them
   are held apart by a never-merge rule and nothing personal of the record picks one — then it
   joins neither (a father and the son named after him, twins, namesakes of one building). Each
   such record meets the customers on its own before the links among them are followed: one that
   fits two people held apart joins no other household record, and a group of the others is
   checked against the customers like one record.
3. `_join_unambiguous`: a group joins a group it fits only when all the groups either of them fits
   also fit each other — one customer, not two. A record whose name fits two homonyms joins neither,
   whatever order the records came in: the decision is taken over the whole graph at once.

Links held apart — refused by a rule, or ambiguous — are kept with the rule that held them: they
become possible matches for a data steward (search.resolve.possible).

A steward's decisions (search.resolve.constraints) come first: records a decision put together
start as one group, whatever the rules say, and groups a decision keeps apart are never joined —
no link outvotes a person's decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from search.resolve.comparisons import clearly_different_people
from search.resolve.config import NEVER_MERGE_RULES, OUTVOTING_LINKS
from search.resolve.constraints import NO_CONSTRAINTS, STEWARD_APART, Constraints
from search.resolve.features import RecordFeatures
from search.resolve.namesakes import NamesakesAtHome, namesakes_apart
from search.resolve.personal import (
    PersonalEvidence,
    contacts_differ,
    holds_household_values_only,
    own_contacts_differ,
    personal_evidence,
    same_place,
)

# Why a link was held apart, beside the never-merge rules (comparisons.NEVER_MERGE_RULES).
NAMES_DISAGREE = "name_alone_against_other_records"
NAMESAKES_OF_ONE_POSTCODE = "name_and_postcode_against_two_addresses"
AMBIGUOUS = "name_alone_fits_several_customers"
PERSONAL_CONTACTS = "different_personal_contacts"  # a never-merge rule over groups (search.resolve.personal)
NAMESAKES_AT_HOME = "namesakes_at_home"  # a never-merge rule over groups, from the data (search.resolve.namesakes)
BIRTH_DATES = "different_birth_dates"
CLUSTER_SIZE = "max_cluster_size"
HOUSEHOLD_RECORD = "household_values_fit_two_people"  # a record of household values fitting two people held apart


@dataclass(frozen=True)
class HeldApart:
    pair: int  # index of the link among the scored pairs
    rule: str  # a never-merge rule, NAMES_DISAGREE, AMBIGUOUS, HOUSEHOLD_RECORD or CLUSTER_SIZE


@dataclass
class Clustering:
    labels: list[int]
    refused_links: list[HeldApart] = field(default_factory=list)  # by a rule, or the size bound
    ambiguous_links: list[HeldApart] = field(default_factory=list)  # a name alone, or household values, fitting several customers
    weak_links: list[int] = field(default_factory=list)  # links resting on names alone that joined two groups

    def clusters(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = {}
        for index, label in enumerate(self.labels):
            groups.setdefault(label, []).append(index)
        return groups


class _Groups:
    """Union-find over records, each root holding its members."""

    def __init__(self, count: int) -> None:
        self.parent = list(range(count))
        self._members: dict[int, list[int]] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def members(self, root: int) -> list[int]:
        return self._members.get(root, [root])

    def union(self, ri: int, rj: int) -> None:
        group_i, group_j = self.members(ri), self.members(rj)
        if len(group_i) < len(group_j):
            ri, rj, group_i, group_j = rj, ri, group_j, group_i
        self.parent[rj] = ri
        self._members[ri] = group_i + group_j
        self._members.pop(rj, None)


# What `disagree(i, j)` answers for a record pair (cluster()): nothing against them being one
# person; some telling field plainly differs and the pair is no match on its own; the same, with
# each record at its own street of one postcode (two households there, not one that moved).
AGREE, DIFFER, DIFFER_AT_TWO_STREETS = 0, 1, 2


class _Coherence:
    """Whether two groups of records may be one customer. Record-pair answers are cached: groups
    grow, and the same pairs are asked again."""

    def __init__(
        self,
        records: list[RecordFeatures],
        linked: set[tuple[int, int]],
        weakly_linked: set[tuple[int, int]],
        never_merge: frozenset[str],
        disagree: Callable[[int, int], int] | None,
        constraints: Constraints = NO_CONSTRAINTS,
        given_names: frozenset[str] = frozenset(),
        namesake_links: frozenset[tuple[int, int]] = frozenset(),
        namesakes: tuple[NamesakesAtHome, float] | None = None,
        changed_with_time: Callable[[int, int], frozenset[str]] | None = None,
    ) -> None:
        # `linked`: links above the match threshold, which may outvote a never-merge rule;
        # `weakly_linked`: links resting on names below it, which support a fit against
        # disagreeing records but never outvote a rule; `namesake_links`: the links among both
        # whose evidence beside the names is what a namesake shares too (a town, a postcode);
        # `namesakes`: namesakes under one roof as the data shows them, and the match threshold;
        # `changed_with_time`: the contacts ("phone", "email") whose difference the time between
        # two records explains, the evidence `disagree` reads (search.resolve.seen_apart).
        self.namesakes = namesakes if namesakes is not None and NAMESAKES_AT_HOME in never_merge else None
        self.records, self.linked, self.never_merge, self.disagree = records, linked, never_merge, disagree
        self.weakly_linked, self.given_names, self.namesake_links = weakly_linked, given_names, namesake_links
        self.constraints, self.changed_with_time = constraints, changed_with_time
        self._rules: dict[tuple[int, int], str | None] = {}
        self._opposition: dict[tuple[int, int], int] = {}
        self._personal: dict[tuple[int, int], PersonalEvidence] = {}

    def conflict(self, a: list[int], b: list[int]) -> str | None:
        """The never-merge rule saying the two groups are different people, or None. Contradicting
        pairs are outvoted when direct links that contradict nothing are at least twice as many (a
        mistyped birth date or given name among many agreeing records), for birth dates only links
        agreeing on a personal value (search.resolve.personal: a birth date, an e-mail, a mobile,
        a card); never when nothing else links them, nor against a steward's decision. Groups
        whose records each hold e-mails and mobiles that differ, nothing personal agreeing, are two
        people too (PERSONAL_CONTACTS), and, where the data holds namesakes under one roof, groups
        of one name at one address less likely one person than the match threshold by a contact
        of each that differs (NAMESAKES_AT_HOME)."""
        if self.constraints.apart(a, b):
            return STEWARD_APART
        rules: list[str] = []
        support = personal_support = 0
        evidence: list[PersonalEvidence] = []
        for key in _cross_pairs(a, b):
            if key not in self._rules:
                self._rules[key] = self._rule(*key)
            if key not in self._personal:
                self._personal[key] = personal_evidence(self.records[key[0]], self.records[key[1]])
            evidence.append(self._personal[key])
            if self._rules[key]:
                rules.append(self._rules[key])  # type: ignore[arg-type]
            elif key in self.linked:
                support += 1
                personal_support += self._personal[key].agrees
        if rules and support < OUTVOTING_LINKS * len(rules):
            return rules[0]
        # Namesakes of one home (a father and the son named after him) are linked on the name, the
        # address and the landline by every pair of their records: only links agreeing on
        # something a person owns outvote the birth dates that tell them apart.
        if personal_support < OUTVOTING_LINKS * rules.count(BIRTH_DATES):
            return BIRTH_DATES
        records_a, records_b = [self.records[x] for x in a], [self.records[y] for y in b]
        if PERSONAL_CONTACTS in self.never_merge and contacts_differ(evidence, records_a, records_b):
            return PERSONAL_CONTACTS
        if self.namesakes is not None and namesakes_apart(self.namesakes[0], evidence, records_a, records_b, self.namesakes[1]):
            return NAMESAKES_AT_HOME
        return None

    def personal_agreement(self, a: list[int], b: list[int]) -> bool:
        """Whether some personal value (a card, a birth date, a contact) agrees across the groups."""
        return any(self._evidence(key).agrees for key in _cross_pairs(a, b))

    def _rule(self, x: int, y: int) -> str | None:
        x_record, y_record = self.records[x], self.records[y]
        if not clearly_different_people(x_record, y_record, self.never_merge, self.given_names):
            return None
        return next(
            r
            for r in NEVER_MERGE_RULES
            if r in self.never_merge and clearly_different_people(x_record, y_record, frozenset({r}), self.given_names)
        )

    def opposed(self, a: list[int], b: list[int]) -> str | None:
        """Why the groups' other records say two people, or None: NAMESAKES_OF_ONE_POSTCODE when
        every direct link between them rests on names and a place while two of their records live
        at two streets of one postcode and plainly differ (`disagree`: another phone, e-mail); else
        NAMES_DISAGREE when record pairs that plainly differ are at least as many as direct links,
        or when one of them holds a mobile or an e-mail of each side's own that differ and
        nothing personal, no place agrees across the groups (`own_values_apart`)."""
        if self.disagree is None:
            return None
        support = namesake_support = 0
        two_streets = False
        differing: list[tuple[int, int]] = []
        for key in _cross_pairs(a, b):
            if key in self.linked or key in self.weakly_linked:
                support += 1
                namesake_support += key in self.namesake_links
                continue
            if key not in self._opposition:
                self._opposition[key] = int(self.disagree(*key))
            if self._opposition[key] != AGREE:
                differing.append(key)
            two_streets |= self._opposition[key] == DIFFER_AT_TWO_STREETS
        if two_streets and support == namesake_support:
            return NAMESAKES_OF_ONE_POSTCODE
        if len(differing) >= support or self.own_values_apart(differing, a, b):
            return NAMES_DISAGREE
        return None

    def own_values_apart(self, differing: list[tuple[int, int]], a: list[int], b: list[int]) -> bool:
        """Whether a record pair across the groups (among `differing`, pairs that are no link and
        plainly differ) holds a mobile or an e-mail of each side's own that differ
        (personal.own_contacts_differ), while nothing personal and no place agrees across the
        groups. Links resting on names are no vote against it, however many: every pair of two
        namesakes' records agrees on the name (two "Anne-Marie Garagert", one's four records
        linked to the other's name-only record by the name, outvoted the other's mobile and
        postcode 4 to 3). A person's own history is not: one group's old address or old mobile
        beside the place both groups hold (a move, a new number) leaves the decision to the links,
        and so does a mobile or an e-mail the time between the two records explains (seen years
        apart, where most people's records differ on it): read as `disagree` reads it."""
        for key in differing:
            changed = self.changed_with_time(*key) if self.changed_with_time is not None else frozenset()
            if own_contacts_differ(self._evidence(key), changed):
                return not (self.personal_agreement(a, b) or self._place_agreement(a, b))
        return False

    def _place_agreement(self, a: list[int], b: list[int]) -> bool:
        return any(same_place(self.records[x], self.records[y]) for x, y in _cross_pairs(a, b))

    def _evidence(self, key: tuple[int, int]) -> PersonalEvidence:
        if key not in self._personal:
            self._personal[key] = personal_evidence(self.records[key[0]], self.records[key[1]])
        return self._personal[key]

    def namesakes_of_one_postcode(self, a: list[int], b: list[int]) -> bool:
        """Whether a link resting on names and a postcode must not join the groups (opposed)."""
        return self.opposed(a, b) == NAMESAKES_OF_ONE_POSTCODE


def _cross_pairs(a: list[int], b: list[int]) -> list[tuple[int, int]]:
    return [(x, y) if x < y else (y, x) for x in a for y in b]


def _strongest_first(records: list[RecordFeatures], pairs: np.ndarray, weights: np.ndarray, above: np.ndarray) -> np.ndarray:
    """The links above the threshold, strongest first; links of equal weight in the order of their
    records' ids, so the customers do not depend on the order records were loaded in (a full run
    reads the index's order, a real-time neighbourhood or an undo reads ids' order)."""
    if not len(above):
        return above
    linked = np.unique(pairs[above])
    ids = np.array([records[i].record_id for i in linked.tolist()])
    rank = np.empty(len(records), dtype=np.int64)
    rank[linked] = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    left, right = rank[pairs[above, 0]], rank[pairs[above, 1]]
    return above[np.lexsort((np.maximum(left, right), np.minimum(left, right), -weights[above]))]


def cluster(
    records: list[RecordFeatures],
    pairs: np.ndarray,
    weights: np.ndarray,
    probabilities: np.ndarray,
    threshold: float,
    max_cluster_size: int,
    never_merge: frozenset[str] = frozenset(NEVER_MERGE_RULES),
    disagree: Callable[[int, int], int] | None = None,
    names_alone: np.ndarray | None = None,
    constraints: Constraints = NO_CONSTRAINTS,
    weak_threshold: float | None = None,
    given_names: frozenset[str] = frozenset(),
    contradicted: np.ndarray | None = None,
    names_and_place: np.ndarray | None = None,
    namesakes: NamesakesAtHome | None = None,
    changed_with_time: Callable[[int, int], frozenset[str]] | None = None,
) -> Clustering:
    """Group records linked above `threshold`, refusing incoherent merges and links that rest on
    names alone (`names_alone`, per pair) unless only one customer fits them. Such a link fits
    from `weak_threshold` (at most `threshold`), being the only customer a name fits is evidence
    the pair's probability leaves out; below `threshold` only when no field of the pair plainly
    differs (`contradicted`, per pair: another address, phone or e-mail). A link resting on names
    and a place (`names_and_place`, per pair: a postcode with a street missing on a side) does not
    join two groups whose records live at two streets of that postcode and plainly differ: two
    namesakes of one postcode, bridged by a record holding a name and the postcode. `namesakes`:
    namesakes under one roof as the data shows them (search.resolve.namesakes), which hold apart
    groups of one name at one address whose contacts say two people more likely than `threshold`
    allows.
    `disagree(i, j)` says whether a record pair is not a match on its own and some field plainly
    differs (AGREE, DIFFER, DIFFER_AT_TWO_STREETS), and `changed_with_time(i, j)` which of its
    contacts' differences the time between the records explains. `constraints`: the stewards' decisions, applied before any link. `given_names`: the
    names of their own the never-merge rule tells apart (comparisons.clearly_different_people)."""
    alone = names_alone if names_alone is not None else np.zeros(len(pairs), dtype=bool)
    weak_from = threshold if weak_threshold is None else min(weak_threshold, threshold)
    plain = ~contradicted if contradicted is not None else np.ones(len(pairs), dtype=bool)
    above = np.nonzero((probabilities >= threshold) | (alone & plain & (probabilities >= weak_from)))[0]
    order = _strongest_first(records, pairs, weights, above)
    weak = alone[order]
    pair_list = pairs.tolist()
    groups = _Groups(len(records))
    linked = {tuple(pair_list[k]) for k in order.tolist() if probabilities[k] >= threshold}
    below_threshold = {tuple(pair_list[k]) for k in order.tolist() if probabilities[k] < threshold}
    placed = alone | (names_and_place if names_and_place is not None else alone)
    namesake_links = frozenset(tuple(pair_list[k]) for k in order.tolist() if placed[k])
    coherence = _Coherence(
        records,
        linked,
        below_threshold,
        never_merge,
        disagree,
        constraints,
        given_names,
        namesake_links,
        (namesakes, threshold) if namesakes is not None else None,
        changed_with_time,
    )
    result = Clustering(labels=[])
    for members in constraints.together:
        for other in members[1:]:
            ri, rj = groups.find(members[0]), groups.find(other)
            if ri != rj:
                groups.union(ri, rj)
    corroborated = order[~weak]
    household = _household_values_only(records, pairs[corroborated])
    ends = household[pairs[corroborated]] if len(corroborated) else np.zeros((0, 2), dtype=bool)
    _join_corroborated(
        groups, coherence, pair_list, corroborated[~ends.any(axis=1)].tolist(), max_cluster_size, result.refused_links, placed
    )
    undecided = _join_household_records(
        groups,
        coherence,
        pair_list,
        corroborated[ends.any(axis=1) & ~ends.all(axis=1)].tolist(),
        max_cluster_size,
        result,
        placed,
        household,
        corroborated[ends.all(axis=1)].tolist(),
    )
    kept_apart: set[tuple[int, int]] = set()
    fits = _fitting_groups(groups, coherence, pair_list, order[weak].tolist(), result.refused_links, kept_apart)
    bars = np.broadcast_to(np.asarray(weak_from, dtype=float), probabilities.shape)
    _join_unambiguous(groups, fits, max_cluster_size, result, kept_apart, _WeakOdds(probabilities, bars, threshold), undecided)
    result.labels = [groups.find(i) for i in range(len(records))]
    if constraints:
        result.refused_links = [
            HeldApart(h.pair, constraints.link_rule(*pair_list[h.pair])) if h.rule == STEWARD_APART else h for h in result.refused_links
        ]
    return result


def _join_corroborated(
    groups: _Groups,
    coherence: _Coherence,
    pairs: list[list[int]],
    links: list[int],
    max_size: int,
    refused: list[HeldApart],
    placed: np.ndarray,
) -> None:
    """Join the groups of each link, strongest first, unless a never-merge rule or the size bound
    holds them apart, or the link rests on names and a postcode (`placed`) that two of the groups'
    records hold at two streets, plainly differing."""
    for k in links:
        ri, rj = groups.find(pairs[k][0]), groups.find(pairs[k][1])
        if ri == rj:
            continue
        group_i, group_j = groups.members(ri), groups.members(rj)
        rule = CLUSTER_SIZE if len(group_i) + len(group_j) > max_size else coherence.conflict(group_i, group_j)
        if not rule and placed[k] and coherence.namesakes_of_one_postcode(group_i, group_j):
            rule = NAMESAKES_OF_ONE_POSTCODE
        if rule:
            refused.append(HeldApart(k, rule))
            continue
        groups.union(ri, rj)


def _household_values_only(records: list[RecordFeatures], linked_pairs: np.ndarray) -> np.ndarray:
    """Per record, whether it holds household values only (holds_household_values_only); asked of
    the records the links touch, False for the others."""
    household = np.zeros(len(records), dtype=bool)
    for i in np.unique(linked_pairs).tolist():
        household[i] = holds_household_values_only(records[i])
    return household


def _join_household_records(
    groups: _Groups,
    coherence: _Coherence,
    pairs: list[list[int]],
    links: list[int],
    max_size: int,
    result: Clustering,
    placed: np.ndarray,
    household: np.ndarray,
    between: list[int] | tuple[()] = (),
) -> set[int]:
    """Join each group of records holding household values only (`household`, per record) to the
    customers its links (strongest first) reach, after every other group formed: unless two of
    the customers it fits are held apart by a never-merge rule (or would break one together) and
    no personal value of the group (a shop's card) agrees with exactly one of them. Then it joins
    neither — a loyalty card holding "David Maueloux", his address and the landline fits the
    father and the son named after him alike — and its links are kept as HOUSEHOLD_RECORD
    (possible matches of both). Returns those groups (roots): no link resting on names joins them
    either (`_join_unambiguous`).
    The links `between` two household records are followed only then, each record having met the
    customers on its own: one that fits two people held apart joins no other household record
    either (its links kept as HOUSEHOLD_RECORD); the records still on their own group together,
    and each such group is checked against the customers like one record. Grouping them first let
    the father's legacy line "Jean Franncois Garilot" and the son's card "Jean Gariloot" reach the
    son as one group, by the son's card (bench.corruption, typo rate 0.2)."""
    reaching: dict[int, list[int]] = {}
    ordinary: list[int] = []
    only = household.tolist()
    for k in links:
        ri, rj = groups.find(pairs[k][0]), groups.find(pairs[k][1])
        if ri == rj:
            continue
        bare_i, bare_j = (all(only[m] for m in groups.members(r)) for r in (ri, rj))
        if bare_i != bare_j:
            reaching.setdefault(ri if bare_i else rj, []).append(k)
        elif not bare_i:  # a steward's decision put household records with a customer's
            ordinary.append(k)
    undecided: set[int] = set()
    for root, reach in reaching.items():
        other = [groups.find(pairs[k][1]) if groups.find(pairs[k][0]) == root else groups.find(pairs[k][0]) for k in reach]
        targets = list(dict.fromkeys(t for t in other if t != root))
        mine = groups.members(root)
        fitting = [t for t in targets if len(mine) + len(groups.members(t)) <= max_size and not coherence.conflict(mine, groups.members(t))]
        if any(coherence.conflict(groups.members(s), groups.members(t)) for s, t in combinations(fitting, 2)):
            chosen = [t for t in fitting if coherence.personal_agreement(mine, groups.members(t))]
            if len(chosen) != 1:
                result.ambiguous_links.extend(HeldApart(k, HOUSEHOLD_RECORD) for k in reach)
                undecided.add(root)
                continue
            reach = [k for k, t in zip(reach, other, strict=True) if t == chosen[0]] + [
                k for k, t in zip(reach, other, strict=True) if t != chosen[0]
            ]
        _join_corroborated(groups, coherence, pairs, reach, max_size, result.refused_links, placed)
    _join_corroborated(groups, coherence, pairs, ordinary, max_size, result.refused_links, placed)
    if not between:
        return undecided
    kept: list[int] = []
    for k in between:
        if groups.find(pairs[k][0]) in undecided or groups.find(pairs[k][1]) in undecided:
            result.ambiguous_links.append(HeldApart(k, HOUSEHOLD_RECORD))
        else:
            kept.append(k)
    bare = {k for k in kept if all(only[m] for i in pairs[k] for m in groups.members(groups.find(i)))}
    _join_corroborated(groups, coherence, pairs, [k for k in kept if k in bare], max_size, result.refused_links, placed)
    rest = [k for k in kept if k not in bare]
    return undecided | _join_household_records(groups, coherence, pairs, rest, max_size, result, placed, household)


def _fitting_groups(
    groups: _Groups,
    coherence: _Coherence,
    pairs: list[list[int]],
    links: list[int],
    refused: list[HeldApart],
    kept_apart: set[tuple[int, int]],
) -> dict[tuple[int, int], int]:
    """Pairs of groups that fit each other through a link resting on names, each with its strongest
    link; the pairs a steward's decision keeps apart are added to `kept_apart`."""
    fits: dict[tuple[int, int], int] = {}
    held: dict[tuple[int, int], str] = {}
    for k in links:
        ri, rj = groups.find(pairs[k][0]), groups.find(pairs[k][1])
        if ri == rj:
            continue
        edge = (ri, rj) if ri < rj else (rj, ri)
        if edge in fits:
            continue
        if edge not in held:
            a, b = groups.members(ri), groups.members(rj)
            rule = coherence.conflict(a, b) or coherence.opposed(a, b)
            if not rule:
                fits[edge] = k
                continue
            held[edge] = rule
            if rule == STEWARD_APART:
                kept_apart.add(edge)
        refused.append(HeldApart(k, held[edge]))
    return fits


@dataclass(frozen=True)
class _WeakOdds:
    """Each link's probability, the bar a link resting on names alone joins from, and the match
    threshold: a link at it or above is as sure on names alone as any link alone may be."""

    probabilities: np.ndarray
    bars: np.ndarray
    threshold: float


def _join_unambiguous(
    groups: _Groups,
    fits: dict[tuple[int, int], int],
    max_size: int,
    result: Clustering,
    kept_apart: set[tuple[int, int]],
    odds: _WeakOdds | None = None,
    undecided: frozenset[int] | set[int] = frozenset(),
) -> None:
    """Join the groups that fit only groups fitting each other; the others join nobody. A name a
    steward said is not that customer's still fits it: a namesake exists, so the record holding
    the name stays ambiguous instead of falling to the other customer by elimination. The customer
    it was kept from is not: the steward took that record out of its choices, and another record
    fitting only that customer still joins it. Three or more groups that fit each other through
    names alone are one person only if every link joining them is right (`_chain_too_weak`). A
    group of household values that fits two people held apart (`undecided`) joins nobody either."""
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in fits:
        neighbours[a].add(b)
        neighbours[b].add(a)
    for a, b in kept_apart:
        for holder in _name_holders(groups, a, b):
            neighbours[holder].add(b if holder == a else a)
    ambiguous = {group for group, others in neighbours.items() if any((x, y) not in fits for x, y in combinations(sorted(others), 2))}
    ambiguous |= undecided
    weak_chains = _chain_too_weak(groups, fits, ambiguous, odds) if odds is not None else set()
    for (a, b), k in fits.items():
        if a in ambiguous or b in ambiguous or a in weak_chains:
            result.ambiguous_links.append(HeldApart(k, AMBIGUOUS))
            continue
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        if len(groups.members(ra)) + len(groups.members(rb)) > max_size:
            result.refused_links.append(HeldApart(k, CLUSTER_SIZE))
            continue
        groups.union(ra, rb)
        result.weak_links.append(k)


def _chain_too_weak(groups: _Groups, fits: dict[tuple[int, int], int], ambiguous: set[int], odds: _WeakOdds) -> set[int]:
    """The groups of each set of three or more single records that fit each other (a clique: every
    group's fits fit each other) and no customer among them (a group of several records its own
    links made), whose joining would rest on names more weakly than one link may: the product of
    the probabilities of its strongest spanning links below the match threshold (each record must
    be the same person's) below the highest bar among those links. Three "Jérôme Masson" holding
    an address, an e-mail and a birth date, nothing in common, are not one person on names alone.
    Links at the match threshold or above count as certain: the errors of links of one name are
    not independent (one person's eight records linked at 0.995 are one person, not 0.995^7 of
    one), and such a link joins on its own. Two groups are one link, already held to its bar; a
    customer the records fit is the one that name is known by."""
    parent: dict[int, int] = {}

    def find(group: int) -> int:
        while parent.setdefault(group, group) != group:
            group = parent[group]
        return group

    strongest = sorted(
        ((edge, k) for edge, k in fits.items() if edge[0] not in ambiguous and edge[1] not in ambiguous),
        key=lambda item: -odds.probabilities[item[1]],
    )
    product: dict[int, float] = {}
    bar: dict[int, float] = {}
    for (a, b), k in strongest:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        parent[rb] = ra
        p = float(odds.probabilities[k])
        product[ra] = product.pop(ra, 1.0) * product.pop(rb, 1.0) * (p if p < odds.threshold else 1.0)
        bar[ra] = max(bar.pop(ra, 0.0), bar.pop(rb, 0.0), float(odds.bars[k]))
    members: dict[int, list[int]] = defaultdict(list)
    for group in parent:
        members[find(group)].append(group)
    return {
        group
        for root, p in product.items()
        if p < bar[root] and all(len(groups.members(g)) == 1 for g in members[root])
        for group in members[root]
    }


def _name_holders(groups: _Groups, a: int, b: int) -> tuple[int, ...]:
    """The side of a link resting on names that holds the name rather than the customer: the group
    of fewer records (a customer is the side its corroborated links made larger); both sides when
    they are as large, as neither can be told to be the customer."""
    size_a, size_b = len(groups.members(a)), len(groups.members(b))
    if size_a == size_b:
        return (a, b)
    return (a,) if size_a < size_b else (b,)
