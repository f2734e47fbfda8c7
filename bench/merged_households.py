"""Why two members of one household end in one customer: `python -m bench.merged_households`.

On bench.corruption data (the robustness benchmark's), rcu resolves each setting as bench.robustness
does; every pair of household members that share a customer is read by what each side's records
hold of their own (an e-mail, a mobile, a birth date) and what those say across the two sides
(search.resolve.personal.personal_evidence). A pair is classified, first family that applies:

- `a side holds household values only`: one member's records hold a name, an address, a landline,
  at most a card — nothing that tells him from the other;
- `something personal agrees`: an e-mail, a mobile, a card or a birth date agrees across them;
- `birth dates differ`: each side holds a birth date and they plainly differ;
- `e-mail and mobile differ, read as one period's change`: the never-merge rule's two kinds differ
  but `seen_together` read one side as the other before or after a change;
- `one kind on each side: mobiles` / `e-mails`: only that kind differs across them;
- `different kinds`: nothing of one kind on both sides (a birth date here, a mobile there).

Each pair is also read by the link that joins it (`link_of`): a scored pair above the match
threshold between the two members' records (`corroborated`; `through a household record` when
every such link has a record of household values only at one end), a link resting on names alone
(`weak`), or none between them (`chain through a third person`); and by whether one source holds
a record of each (`one system holds each`). Printed per setting: the member pairs and their record
pairs per family, with the given names' relation (namesakes, or not) and examples with each side's
records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

from bench.corruption.dataset import corpus, robustness_dataset
from bench.corruption.knobs import Knobs, diagnose
from search.resolve.comparisons import birth_date_level
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures, features_of
from search.resolve.personal import holds_contact, holds_household_values_only, personal_evidence, seen_together
from search.resolve.scoring import Resolution, resolve_records

FIELDS = ("source", "updated_at", "given_name", "family_name", "birth_date", "email", "phone", "loyalty_card", "postcode", "street")


def family_of(a: list[RecordFeatures], b: list[RecordFeatures]) -> str:
    """The first family (module docstring) the two members' records fall in."""
    if all(holds_household_values_only(r) for r in a) or all(holds_household_values_only(r) for r in b):
        return "a side holds household values only"
    evidence = [personal_evidence(x, y) for x in a for y in b]
    if any(e.agrees for e in evidence):
        return "something personal agrees"
    if any(birth_date_level(x, y) in (2, 3) for x in a for y in b):
        return "birth dates differ"
    emails, mobiles = any(e.emails_differ for e in evidence), any(e.mobiles_differ for e in evidence)
    if emails and mobiles:
        together = seen_together([r for r in a if holds_contact(r)], [r for r in b if holds_contact(r)])
        return "e-mail and mobile differ, " + ("seen together (?)" if together else "read as one period's change")
    if mobiles:
        return "one kind on each side: mobiles"
    if emails:
        return "one kind on each side: e-mails"
    return "different kinds"


def link_of(resolution: Resolution, records: list[RecordFeatures], a: list[int], b: list[int], threshold: float) -> str:
    """What joins two members' records (module docstring), from the run's scored pairs and weak links."""
    scored, weak = resolution.scored, set(resolution.clustering.weak_links)
    mine, theirs = set(a), set(b)
    direct = [
        (k, i, j)
        for k, (i, j) in enumerate(scored.pairs.tolist())
        if ((i in mine and j in theirs) or (i in theirs and j in mine)) and (scored.probabilities[k] >= threshold or k in weak)
    ]
    if not direct:
        return "chain through a third person"
    if all(k in weak for k, _, _ in direct):
        return "weak"
    strong = [(i, j) for k, i, j in direct if k not in weak]
    if all(holds_household_values_only(records[i]) or holds_household_values_only(records[j]) for i, j in strong):
        return "corroborated, through a household record"
    return "corroborated"


def analyse(knobs: Knobs, seed: int, config: ResolutionConfig, examples: int) -> None:
    dataset = robustness_dataset(knobs, seed)
    people = {p.person_id: p for p in corpus(knobs, seed).population.people}
    records = features_of(dataset.documents)
    resolution = resolve_records(records, config)
    labels = resolution.clustering.labels
    by_customer: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, record in enumerate(records):
        by_customer[labels[index]][dataset.truth[record.record_id]].append(index)
    families: Counter[str] = Counter()
    record_pairs: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    for members in by_customer.values():
        for p, q in combinations(sorted(members), 2):
            household = dataset.households.get(p)
            if not household or dataset.households.get(q) != household:
                continue
            a, b = [records[i] for i in members[p]], [records[i] for i in members[q]]
            family = family_of(a, b)
            namesakes = "namesakes" if people[p].given == people[q].given else "other names"
            link = link_of(resolution, records, members[p], members[q], config.match_threshold)
            system = "one system holds each" if {r.source for r in a} & {r.source for r in b} else "no source in common"
            key = f"{family} | {namesakes} | {link} | {system}"
            families[key] += 1
            record_pairs[key] += len(a) * len(b)
            if shown[family] < examples:
                shown[family] += 1
                print(f"   {family} | {namesakes}: {people[p].given} {people[p].birth_date} / {people[q].given} {people[q].birth_date}")
                for side, indices in (("A", members[p]), ("B", members[q])):
                    for i in indices:
                        doc = dataset.documents[i]
                        print(f"      {side}", {f: doc.get(f) for f in FIELDS if doc.get(f)})
    print(f"  pairs of household members in one customer: {sum(families.values())} ({sum(record_pairs.values())} record pairs)")
    for family, count in families.most_common():
        print(f"  {count:5d} {record_pairs[family]:5d}  {family}")


def main() -> None:
    diagnose(
        __doc__,
        ["father_namesake_share=0.3", "father_namesake_share=1"],
        "pairs printed per family",
        lambda knobs, seed, examples: analyse(knobs, seed, ResolutionConfig(), examples),
    )


if __name__ == "__main__":
    main()
