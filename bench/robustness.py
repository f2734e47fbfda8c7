"""Resolution on data rcu was not tuned to, one knob at a time: `python -m bench.robustness`.

The data come from bench.corruption, a corruption model written apart from the demo generator.
From a baseline setting, each knob is swept on its own (bench.corruption.knobs.SWEEP); for each
setting, rcu (default configuration, in memory, as bench.resolve runs it) and Splink (at its best
threshold, bench.splink_runner) resolve the same normalized records, each in a child process.

Reported per setting: pairwise precision / recall / F1; blocking recall (the share of true record
pairs that rcu's candidate generation ever puts together) and candidate pairs per record; the share
of household and homonym record pairs merged; the possible matches rcu created (when the engine
reports them) and the share of true record pairs left in two customers that one of them names
("apart covered"); Splink's F1 and merged shares at its best threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from bench.corruption.knobs import SWEEP, Knobs
from bench.harness import machine, run_measured

DEFAULT_PEOPLE = 5000  # the whole sweep: 117 s without Splink, 561 s with it, on 2 shared cores (2026-11-27)
EXAMPLES = 6


def _related(dataset: Any) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """Pairs of entities that must stay apart: household members, and homonyms."""
    members: dict[str, list[str]] = {}
    for entity, household in dataset.households.items():
        members.setdefault(household, []).append(entity)
    households = {frozenset((a, b)) for group in members.values() for a in group for b in group if a < b}
    return households, set(dataset.homonyms)


def _merged(assignment: dict[str, str], dataset: Any, related: set[frozenset[str]]) -> tuple[int, int]:
    from bench.metrics import pair_metrics

    if not related:
        return 0, 0
    metrics = pair_metrics(assignment, dataset.truth, related)
    return metrics.related_pairs_merged, metrics.related_pairs


def _scores(assignment: dict[str, str], dataset: Any) -> dict[str, Any]:
    from bench.metrics import pair_metrics

    metrics = pair_metrics(assignment, dataset.truth)
    households, homonyms = _related(dataset)
    return {
        "precision": metrics.precision,
        "recall": metrics.recall,
        "f1": metrics.f1,
        "households": _merged(assignment, dataset, households),
        "homonyms": _merged(assignment, dataset, homonyms),
    }


def _blocking(records: list[Any], pairs: Any, truth: dict[str, str]) -> tuple[float, float, list[tuple[str, str]]]:
    """Blocking recall, candidate pairs per record, and true pairs never compared."""
    ids = [record.record_id for record in records]
    compared = {(ids[i], ids[j]) for i, j in pairs.tolist() if truth[ids[i]] == truth[ids[j]]}
    by_entity: dict[str, list[str]] = {}
    for record_id in ids:
        by_entity.setdefault(truth[record_id], []).append(record_id)
    true_pairs = sum(len(group) * (len(group) - 1) // 2 for group in by_entity.values())
    missed = [
        (a, b)
        for group in by_entity.values()
        for n, a in enumerate(group)
        for b in group[n + 1 :]
        if (a, b) not in compared and (b, a) not in compared
    ]
    recall = (true_pairs - len(missed)) / true_pairs if true_pairs else 1.0
    return recall, len(pairs) / len(records) if records else 0.0, missed


def worker(system: str, knobs: Knobs, seed: int) -> None:
    """Child process: make the data set, resolve it with one system, print one JSON line."""
    import warnings

    warnings.simplefilter("ignore")
    from bench.corruption.dataset import robustness_dataset

    dataset = robustness_dataset(knobs, seed)
    started = time.perf_counter()
    result: dict[str, Any] = {"records": len(dataset.documents)}
    if system == "rcu":
        from search.resolve.config import ResolutionConfig
        from search.resolve.features import features_of
        from search.resolve.scoring import resolve_records

        features = features_of(dataset.documents)
        config = ResolutionConfig()
        resolution = resolve_records(features, config)
        result["seconds"] = time.perf_counter() - started
        assignment = {f.record_id: str(label) for f, label in zip(features, resolution.clustering.labels, strict=True)}
        result.update(_scores(assignment, dataset))
        recall, per_record, missed = _blocking(features, resolution.scored.pairs, dataset.truth)
        possible = getattr(resolution, "possible_matches", None)
        result.update(
            blocking_recall=recall, candidates_per_record=per_record, possible_matches=None if possible is None else len(possible)
        )
        if possible is not None:
            from bench.metrics import pairs_apart_covered
            from search.resolve.possible import customers_without_relation, most_probable_per_customer

            labels = resolution.clustering.labels
            # As `rcu resolve` stores them: at most max_possible_matches_per_customer per customer.
            found = possible
            possible = most_probable_per_customer(
                found, lambda m: (labels[m.left], labels[m.right]), lambda m: m.probability, config.max_possible_matches_per_customer
            )
            result["customers_without_possible"] = customers_without_relation(found, possible, lambda m: (labels[m.left], labels[m.right]))
            result["possible_beyond_bound"] = result["possible_matches"] - len(possible)
            result["possible_matches"] = len(possible)
            between = {frozenset((str(labels[m.left]), str(labels[m.right]))) for m in possible}
            result["apart_covered"] = pairs_apart_covered(assignment, dataset.truth, between)
            result["most_per_customer"] = _most_per_customer(between)
        result["examples"] = _examples(dataset, assignment, missed)
    else:
        from bench.splink_runner import run_splink

        runs: dict[float, dict[str, str]] = run_splink(dataset)  # type: ignore[assignment]  # per threshold on dedupe data
        result["seconds"] = time.perf_counter() - started
        best = max(((threshold, _scores(assignment, dataset)) for threshold, assignment in runs.items()), key=lambda run: run[1]["f1"])
        result.update(best[1], threshold=best[0])
    print(json.dumps(result))


def _most_per_customer(between: set[frozenset[str]]) -> int:
    """The most possible matches one customer holds (a steward's list for that customer)."""
    per_customer: dict[str, int] = {}
    for pair in between:
        for customer in pair:
            per_customer[customer] = per_customer.get(customer, 0) + 1
    return max(per_customer.values(), default=0)


def _examples(dataset: Any, assignment: dict[str, str], missed: list[tuple[str, str]]) -> dict[str, list[list[dict[str, Any]]]]:
    """A few true pairs never compared, and a few compared but left in two customers."""
    documents = {d["record_id"]: d for d in dataset.documents}
    shown = ("record_id", "given_name", "family_name", "birth_name", "birth_date", "email", "phone", "postcode", "city", "street")
    missed_set = set(missed)
    split = [(a, b) for a, b in _true_pairs(dataset.truth) if assignment[a] != assignment[b] and (a, b) not in missed_set]

    def view(pairs: list[tuple[str, str]]) -> list[list[dict[str, Any]]]:
        step = max(1, len(pairs) // EXAMPLES)
        return [[{k: documents[r].get(k) for k in shown if documents[r].get(k)} for r in pair] for pair in pairs[::step][:EXAMPLES]]

    return {"never_compared": view(missed), "compared_not_merged": view(split)}


def _true_pairs(truth: dict[str, str]) -> list[tuple[str, str]]:
    by_entity: dict[str, list[str]] = {}
    for record_id, entity in truth.items():
        by_entity.setdefault(entity, []).append(record_id)
    return [(a, b) for group in by_entity.values() for n, a in enumerate(group) for b in group[n + 1 :]]


def settings(knobs: list[str], baseline: Knobs) -> list[tuple[str, float]]:
    """("baseline", 0) first, then every other value of each knob swept."""
    chosen = [("baseline", 0.0)]
    for knob in knobs:
        chosen += [(knob, value) for value in SWEEP[knob] if value != getattr(baseline, knob)]
    return chosen


def run(system: str, knob: str, value: float, people: int, seed: int) -> dict[str, Any] | str:
    child = run_measured(
        [sys.executable, "-m", "bench.robustness", "--worker", system, knob, str(value), "--people", str(people), "--seed", str(seed)]
    )
    lines = [line for line in child.output.splitlines() if line.startswith("{")]
    if child.returncode or not lines:
        return f"failed: {child.output.strip()[-300:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    result["peak_mb"] = child.peak_rss_mb
    return result


def _share(counts: list[int]) -> str:
    merged, pairs = counts
    return f"{100 * merged / pairs:.2f}% ({merged}/{pairs})" if pairs else "-"


HEADER = (
    f"{'knob':<25} {'value':>6} {'records':>7} {'F1':>6} {'prec':>6} {'recall':>6} {'block.rec':>9} {'cand/rec':>8} "
    f"{'household merged':>17} {'homonym merged':>17} {'possible':>9} {'most':>4} {'apart covered':>18} {'splink F1':>9} {'thr':>5} {'splink household':>17} "
    f"{'splink homonym':>17} {'rcu s':>6} {'splink s':>8}"
)


def row(knob: str, value: float, rcu: dict[str, Any] | str, splink: dict[str, Any] | str | None) -> str:
    label = f"{'baseline' if knob == 'baseline' else knob:<25} {'' if knob == 'baseline' else f'{value:g}':>6}"
    if isinstance(rcu, str):
        return f"{label} rcu {rcu}"
    possible = "n/a" if rcu["possible_matches"] is None else str(rcu["possible_matches"])
    if rcu.get("possible_beyond_bound"):
        possible += f"+{rcu['possible_beyond_bound']}"  # + those past the bound per customer
    text = (
        f"{label} {rcu['records']:>7} {rcu['f1']:>6.4f} {rcu['precision']:>6.4f} {rcu['recall']:>6.4f} {rcu['blocking_recall']:>9.4f} "
        f"{rcu['candidates_per_record']:>8.3f} {_share(rcu['households']):>17} {_share(rcu['homonyms']):>17} {possible:>9} "
        f"{rcu.get('most_per_customer', 0):>4} {_share(rcu.get('apart_covered', [0, 0])):>18}"
    )
    if splink is None:
        return f"{text} {'-':>9} {'-':>5} {'-':>17} {'-':>17} {rcu['seconds']:>6.1f} {'-':>8}"
    if isinstance(splink, str):
        return f"{text} splink {splink}"
    return (
        f"{text} {splink['f1']:>9.4f} {splink['threshold']:>5g} {_share(splink['households']):>17} {_share(splink['homonyms']):>17} "
        f"{rcu['seconds']:>6.1f} {splink['seconds']:>8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE, help=f"people per setting (default {DEFAULT_PEOPLE})")
    parser.add_argument("--knobs", default=",".join(SWEEP), help=f"knobs to sweep, comma-separated (default all: {','.join(SWEEP)})")
    parser.add_argument("--no-splink", action="store_true", help="rcu only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--examples", action="store_true", help="print a few true pairs rcu missed, per setting")
    parser.add_argument("--worker", nargs=3, metavar=("SYSTEM", "KNOB", "VALUE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    baseline = Knobs(people=args.people)
    if args.worker:
        system, knob, value = args.worker
        worker(system, baseline if knob == "baseline" else baseline.with_value(knob, float(value)), args.seed)
        return
    knobs = [k for k in args.knobs.split(",") if k]
    unknown = [k for k in knobs if k not in SWEEP]
    if unknown:
        parser.error(f"unknown knobs {unknown}; choose among {', '.join(SWEEP)}")
    print(machine())
    print(f"baseline: {json.dumps(asdict(baseline))}, seed {args.seed}")
    print(HEADER, flush=True)
    started = time.perf_counter()
    for knob, value in settings(knobs, baseline):
        rcu = run("rcu", knob, value, args.people, args.seed)
        splink = None if args.no_splink else run("splink", knob, value, args.people, args.seed)
        print(row(knob, value, rcu, splink), flush=True)
        if args.examples and isinstance(rcu, dict):
            for kind, pairs in rcu["examples"].items():
                for pair in pairs:
                    print(f"    {kind}: {json.dumps(pair, ensure_ascii=False)}")
    print(f"sweep done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
