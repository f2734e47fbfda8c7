"""Why a person's records stay in two customers: `python -m bench.split_parts`.

On bench.corruption data (the robustness benchmark's), rcu resolves each setting as bench.robustness
does; every person split into several customers is read part by part: each part but the person's
largest, with the strongest scored pair between it and the rest of the person. A part is classified
by why that pair did not join it — never compared (blocking), below the review threshold, below the
match threshold (with more than a name in common; on a name alone with a field plainly different;
on a name alone below the weak-link bar), or held apart (by which rule) — and by what the pair shares beside names
(bench.missed_pairs.shared_values) with its name levels (g = given, f = family; 0 exact … 5
different).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.corruption.dataset import robustness_dataset
from bench.corruption.knobs import Knobs, diagnose
from bench.missed_pairs import name_levels, shared_values
from search.resolve.comparisons import comparisons_for
from search.resolve.config import ResolutionConfig
from search.resolve.evidence import names_alone
from search.resolve.features import features_of
from search.resolve.scoring import contradicted_pairs, resolve_records, telling_columns
from search.resolve.seen_apart import changed_with_time, pair_bins
from search.resolve.weak_links import weak_link_bar


def analyse(knobs: Knobs, seed: int, config: ResolutionConfig, examples: int) -> None:
    dataset = robustness_dataset(knobs, seed)
    records = features_of(dataset.documents)
    resolution = resolve_records(records, config)
    labels = resolution.clustering.labels
    person = [dataset.truth[r.record_id] for r in records]
    held = {h.pair: h.rule for h in resolution.clustering.refused_links + resolution.clustering.ambiguous_links}
    comparisons, vectors = comparisons_for(resolution.model.identifiers), resolution.scored.vectors
    model = resolution.model
    changed = changed_with_time(model.m_by_gap, model.names, vectors, pair_bins(records, resolution.scored.pairs, model.gap_edges))
    contradicted = contradicted_pairs(vectors, comparisons, telling_columns(comparisons, model), changed)
    alone, bar = names_alone(vectors, comparisons), weak_link_bar(config, resolution.model.weak_link_bar)
    best: dict[tuple[int, str], tuple[float, int]] = {}  # (customer, person) → strongest pair to the rest of the person
    pairs, probabilities = resolution.scored.pairs.tolist(), resolution.scored.probabilities.tolist()
    for k, (i, j) in enumerate(pairs):
        if person[i] != person[j] or labels[i] == labels[j]:
            continue
        for side in (labels[i], labels[j]):
            key = (side, person[i])
            if key not in best or probabilities[k] > best[key][0]:
                best[key] = (probabilities[k], k)
    parts: dict[str, Counter[int]] = defaultdict(Counter)
    for index, who in enumerate(person):
        parts[who][labels[index]] += 1
    reasons: Counter[str] = Counter()
    families: Counter[str] = Counter()
    shown: dict[str, int] = Counter()
    for who, customers in parts.items():
        if len(customers) < 2:
            continue
        main = customers.most_common(1)[0][0]
        for customer, size in customers.items():
            if customer == main:
                continue
            if (customer, who) not in best:
                reasons["never compared"] += size
                continue
            probability, k = best[(customer, who)]
            if k in held:
                why = f"held: {held[k]}"
            elif probability < config.review_threshold:
                why = "below review"
            elif probability < config.match_threshold and not alone[k]:
                why = "below match, more than a name"
            elif probability < config.match_threshold and contradicted[k]:
                why = "below match, name alone, a field differs"
            elif probability < bar:
                why = "below the weak-link bar, name alone"
            elif probability < config.match_threshold:
                why = "name alone above the bar, not joined"
            else:
                why = "above match, not joined"
            i, j = pairs[k]
            shared = "+".join(shared_values(records[i], records[j])) or "-"
            family = f"{why} | {name_levels(records[i], records[j])} | {shared}"
            reasons[why] += size
            families[family] += size
            if shown[why] < examples:
                shown[why] += 1
                print(f"   {why} p={probability:.3f} w={resolution.scored.weights[k]:.1f} {list(resolution.scored.vectors[k])}")
                for r in (i, j):
                    doc = dataset.documents[r]
                    fields = ("given_name", "family_name", "birth_name", "birth_date", "email", "phone", "postcode", "city", "street")
                    print("      ", {f: doc.get(f) for f in fields if doc.get(f)})
    print("  records split off, by why:", ", ".join(f"{why} {n}" for why, n in reasons.most_common()))
    for family, count in families.most_common(25):
        print(f"  {count:5d}  {family}")


def main() -> None:
    diagnose(
        __doc__,
        ["sparse_share=0.4", "timeline_years=20", "typo_rate=0.35"],
        "pairs printed per reason",
        lambda knobs, seed, examples: analyse(knobs, seed, ResolutionConfig(), examples),
    )


if __name__ == "__main__":
    main()
