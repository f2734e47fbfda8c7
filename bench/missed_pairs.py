"""What the true pairs that blocking never compares share: `python -m bench.missed_pairs`.

On bench.corruption data (the robustness benchmark's), for each setting: the true record pairs that
no blocking key puts together, the ones among them that no chain of compared true pairs joins either
("unreachable": a person split by blocking itself, whatever the scorer does), and for those what the
two records share — an exact value (phone, e-mail, card, birth date, postcode, town, street), a near
one (a digit off, a typo in the e-mail, the same mailbox at another provider, a swapped day and
month) — and how their names compare (the levels of search.resolve.comparisons: g = given name,
f = family name; 0 exact, 1 same sound, 2 one keystroke or very close, 3 close, 4 an initial or a
short form, 5 different).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.blocking_keys import joined
from bench.corruption.dataset import robustness_dataset
from bench.corruption.knobs import Knobs, knobs_of_setting, knobs_parser
from search.resolve.candidates import candidate_pairs
from search.resolve.comparisons import birth_date_level, email_level, name_orientation, phone_level
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures, features_of

CONTACT = ("phone", "email", "card")


def shared_values(x: RecordFeatures, y: RecordFeatures) -> list[str]:
    """The non-name values two records share, exactly or nearly."""
    shared = [field for field in CONTACT if getattr(x, field) and getattr(x, field) == getattr(y, field)]
    if "phone" not in shared and x.phone and y.phone and phone_level(x, y) == 2:
        shared.append("phone one digit off")
    if "email" not in shared and x.email and y.email:
        if email_level(x, y) == 2:
            shared.append("e-mail one typo")
        elif x.email.partition("@")[0] == y.email.partition("@")[0]:
            shared.append("same mailbox")
    birth = birth_date_level(x, y)
    shared += ["birth date"] if birth == 0 else ["birth date nearly"] if birth == 1 else []
    if x.postcode and x.postcode == y.postcode:
        shared.append("postcode")
    elif x.city and x.city == y.city:
        shared.append("town")
    if x.street and x.street == y.street:
        shared.append("street")
    return shared


def family_of(shared: list[str]) -> str:
    """The first family of real-world cases a never-compared pair falls in."""
    if any(value in shared for value in CONTACT):
        return "an exact phone, e-mail or card (its block too common)"
    if "birth date" in shared:
        return "the birth date, names of another sound"
    if "postcode" in shared:
        return "the postcode, no name of the same sound"
    near = [value for value in shared if value.endswith(("off", "typo", "mailbox", "nearly"))]
    if near:
        return "a near value: " + ", ".join(near)
    return "the town only" if "town" in shared else "nothing but names"


def name_levels(x: RecordFeatures, y: RecordFeatures) -> str:
    given, family = name_orientation(x, y)
    return f"g{given}f{family}"


def analyse(knobs: Knobs, seed: int, config: ResolutionConfig) -> None:
    dataset = robustness_dataset(knobs, seed)
    records = features_of(dataset.documents)
    pairs = candidate_pairs(records, config.max_block_size, 1, config.max_name_block_size).pairs
    compared = set(map(tuple, pairs.tolist()))
    person = [dataset.truth[r.record_id] for r in records]
    members: dict[str, list[int]] = defaultdict(list)
    for index, who in enumerate(person):
        members[who].append(index)
    true_pairs = [(a, b) for group in members.values() for k, a in enumerate(group) for b in group[k + 1 :]]
    missed = [(a, b) for a, b in true_pairs if (a, b) not in compared]
    group = joined([(a, b) for a, b in compared if person[a] == person[b]], len(records))
    unreachable = [(a, b) for a, b in missed if group[a] != group[b]]
    print(
        f"{len(records)} records, {len(true_pairs)} true pairs: {len(missed)} never compared "
        f"(blocking recall {1 - len(missed) / len(true_pairs):.4f}), {len(unreachable)} unreachable, "
        f"{len(pairs) / len(records):.2f} candidate pairs per record"
    )
    families = Counter(family_of(shared_values(records[a], records[b])) for a, b in unreachable)
    for family, count in families.most_common():
        print(f"  {count:6d}  {family}")
    names = Counter(name_levels(records[a], records[b]) for a, b in unreachable)
    print("  names (unreachable pairs):", ", ".join(f"{levels} {count}" for levels, count in names.most_common(10)))


def main() -> None:
    parser = knobs_parser(__doc__)
    parser.add_argument(
        "settings", nargs="*", default=["baseline", "sparse_share=0.4", "typo_rate=0.35", "timeline_years=20", "initials_share=0.25"]
    )
    args = parser.parse_args()
    for setting in args.settings:
        knobs = knobs_of_setting(parser, setting, args.people)
        print(f"== {setting}")
        analyse(knobs, args.seed, ResolutionConfig())


if __name__ == "__main__":
    main()
