"""The on-disk side of a partitioned full run (search.resolve.partitioned), in DuckDB: the records
as loaded, their blocking-key hashes, the values term frequencies count, and what the last run
stored (customers, their hashes, record links) leave memory as they are read.

Two graphs over the records are cut into components by a union-find streamed over their edges:
- the candidate graph (`plan`: records sharing a blocking key, and a previous customer's records):
  its components, in random order, give the training sample and the order in which candidate pairs
  are scored, a range of at most `partition_records` records against another (`tiles`, `range_features`);
  its largest component holds a quarter of the records at 1M (bench/RESULTS.md), so it is never
  held whole;
- the scored graph (`regroup`: pairs scored at least the review threshold, a previous customer's
  records, the records a steward's decision names together): whole components grouped into
  partitions of about `partition_records` records, each read back in record id order (`partition`).
  Pairs below the review threshold neither link nor become possible matches, so resolving each
  partition on its own finds the in-memory run's customers; stable ids (search.resolve.ids) see
  each old customer whole, and each decision is seen whole.
What stays in memory grows with the records at a few 8-byte words each (union-find, labels), not
with their content.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from search.resolve.blocking import GATED_RULES, ONE_SIDED_RULES, STRONG_RULES, WEAK_RULES, pair_budget
from search.resolve.features import RecordFeatures, features_from_json, features_to_json
from search.resolve.frequencies import PERSONAL_VALUES, value_holders
from search.resolve.scoring import ScoredPairs

EDGE_BATCH = 1_000_000
# Personal values (e-mails, phones) repeated across records are counted in holders this many groups at a time.
HOLDER_GROUPS = 16

_SCHEMA = """
CREATE TABLE records (idx BIGINT, record_id VARCHAR, source VARCHAR, doc VARCHAR, features BLOB, sample_key BIGINT);
CREATE TABLE keys (h BIGINT, owner BIGINT, weak BOOLEAN, needs BOOLEAN, gate TINYINT);
CREATE TABLE terms (feature VARCHAR, value VARCHAR, given_ph VARCHAR, family_ph VARCHAR);
CREATE TABLE customers (customer_id VARCHAR, hash VARCHAR);
CREATE TABLE members (record_id VARCHAR, customer_id VARCHAR);
CREATE TABLE links (record_id VARCHAR, customer_id VARCHAR);
"""


# The rules the spool keys records by, strong then weak then one-sided (`_add_keys`), and what a
# key row says of its rule: weak, needing a side (one-sided), the gated rule's number.
_SPOOLED_RULES = STRONG_RULES + WEAK_RULES + ONE_SIDED_RULES
_WEAK = np.array([index >= len(STRONG_RULES) for index in range(len(_SPOOLED_RULES))])
_ONE_SIDED_COLUMNS = [index for index, rule in enumerate(_SPOOLED_RULES) if rule.pairs_need is not None]
_NO_NEED = np.array([index not in _ONE_SIDED_COLUMNS for index in range(len(_SPOOLED_RULES))])
_GATE_NUMBERS = np.array(
    [next((n for n, gated in enumerate(GATED_RULES) if gated.kind == rule.kind), -1) for rule in _SPOOLED_RULES], dtype=np.int8
)
_NO_GATE = _GATE_NUMBERS < 0


@dataclass
class Partition:
    """One partition's records (documents in record id order), its scored pairs, and what the last
    run stored about them."""

    documents: list[dict[str, Any]]
    features: list[RecordFeatures]  # of `documents`, as spooled at load (or at a rekey)
    previous: dict[str, str]  # record_id → customer_id (the customers index's members)
    hashes: dict[str, str]  # customer_id → stored resolution hash
    links: dict[str, str]  # record_id → customer_id (the record links index)
    scored: ScoredPairs  # pairs at least the review threshold, by place in `documents`, (i, j) order


@dataclass
class Plan:
    """The candidate graph of a run, cut for scoring and training (RecordSpool.plan)."""

    ranges: int = 0  # ranges of at most partition_records records, scored a range against another
    sample: int = 0  # records in the training sample: whole components drawn at random
    frequent_keys: dict[str, int] = field(default_factory=dict)
    frequent_hashes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    largest_component: int = 0


@dataclass
class Grouping:
    """Partitions of the scored graph (RecordSpool.regroup), each read back by RecordSpool.partition."""

    sizes: list[int]  # records per partition
    largest_component: int = 0


@dataclass
class Tile:
    """The candidate pairs between two ranges (range_a <= range_b): each record by its place in its
    range (`left`, `right`) and by its spool number (`left_idx`, `right_idx`)."""

    range_a: int
    range_b: int
    left: np.ndarray
    right: np.ndarray
    left_idx: np.ndarray
    right_idx: np.ndarray
    # Made by an ungated key (`free`), or only by gated ones: their numbers as bits (`gates`,
    # search.resolve.blocking.GATED_RULES), the pair compared when one of their gates passes.
    free: np.ndarray
    gates: np.ndarray


def sample_key(record_id: str) -> int:
    """Where a record's component falls in the draw of the training sample: the first 8 bytes of the
    BLAKE2b digest of its id, as a signed big-endian integer. Computed here, not by DuckDB's
    `hash()`, which may change between DuckDB releases: two first runs over the same records train
    on the same sample whatever the DuckDB version (README, "partitioned")."""
    return int.from_bytes(hashlib.blake2b(record_id.encode(), digest_size=8).digest(), "big", signed=True)


class RecordSpool:
    def __init__(self, folder: Path, memory_mb: int) -> None:
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        self.db = duckdb.connect(
            str(folder / "spool.duckdb"),
            config={
                "memory_limit": f"{memory_mb}MB",
                "threads": "2",
                "temp_directory": str(folder / "tmp"),
                "preserve_insertion_order": "false",
            },
        )
        self.db.execute(_SCHEMA)
        self.count = 0
        self.sources: Counter[str] = Counter()

    def close(self) -> None:
        self.db.close()

    def memory_mb(self) -> float:
        """What DuckDB holds in memory now (its buffers; bounded by spool_memory_mb, past which it spills)."""
        return float(self.db.execute("SELECT coalesce(sum(memory_usage_bytes), 0) / 2**20 FROM duckdb_memory()").fetchall()[0][0])

    def _insert(self, table: str, columns: dict[str, Any]) -> None:
        batch = pa.table(columns)
        self.db.register("batch", batch)
        self.db.execute(f"INSERT INTO {table} SELECT * FROM batch")
        self.db.unregister("batch")

    def add_records(self, documents: list[dict[str, Any]], features: list[RecordFeatures], tf_features: Iterable[str]) -> None:
        """Spool a batch of records with their blocking keys and term-frequency values."""
        first = self.count
        self.count += len(documents)
        self.sources.update(f.source for f in features)
        self._insert(
            "records",
            {
                "idx": np.arange(first, self.count, dtype=np.int64),
                "record_id": [d["record_id"] for d in documents],
                "source": [f.source for f in features],
                "doc": [orjson.dumps(d).decode() for d in documents],
                # Computed once, at load: partition, training and the scoring tiles decode them (features_from_json).
                "features": pa.array(features_to_json(features), pa.binary()),
                "sample_key": np.fromiter((sample_key(d["record_id"]) for d in documents), dtype=np.int64, count=len(documents)),
            },
        )
        self._add_keys(first, features)
        rows: dict[str, list[str]] = {"feature": [], "value": [], "given_ph": [], "family_ph": []}
        for feature in tf_features:
            for record in features:
                value = getattr(record, feature)
                if value:
                    rows["feature"].append(feature)
                    rows["value"].append(value)
                    rows["given_ph"].append(record.given_ph)
                    rows["family_ph"].append(record.family_ph)
        self._insert("terms", rows)

    def _add_keys(self, first: int, features: list[RecordFeatures]) -> None:
        """Each record's keys: strong, weak, and one-sided, with whether the record holds what the
        rule needs (`needs`, NULL for the other keys) and the gated rule's number (`gate`, NULL for
        an ungated key: search.resolve.blocking.GATED_RULES). Python only hashes the keys and counts
        them per rule; what each key row says of its rule is spread over its rows by numpy."""
        hashes: list[int] = []
        counts: list[int] = []
        for record in features:
            for rule in _SPOOLED_RULES:
                keys = rule.keys(record)
                hashes.extend(map(hash, keys))
                counts.append(len(keys))
        per_rule = np.array(counts, dtype=np.int64).reshape(len(features), len(_SPOOLED_RULES))
        needs = np.zeros(per_rule.shape, dtype=bool)
        for column in _ONE_SIDED_COLUMNS:
            pairs_need = _SPOOLED_RULES[column].pairs_need
            assert pairs_need is not None
            needs[:, column] = np.fromiter((pairs_need(record) for record in features), dtype=bool, count=len(features))
        rows = per_rule.ravel()

        def spread(values: np.ndarray) -> np.ndarray:
            return np.repeat(np.broadcast_to(values, per_rule.shape).ravel(), rows)

        no_need = spread(_NO_NEED)
        no_gate = spread(_NO_GATE)
        columns = {
            "h": np.array(hashes, dtype=np.int64),
            "owner": np.repeat(np.arange(first, first + len(features), dtype=np.int64), per_rule.sum(axis=1)),
            "weak": spread(_WEAK),
            "needs": pa.array(np.repeat(needs.ravel(), rows), pa.bool_(), mask=no_need),
            "gate": pa.array(spread(_GATE_NUMBERS), pa.int8(), mask=no_gate),
        }
        self._insert("keys", columns)

    def rekey(self, features_of_batch: Any, batch: int = 20_000) -> None:
        """Block again on every spooled record, its spooled features made again too (a run that
        found new identifiers blocks on them, and compares them)."""
        self.db.execute("DELETE FROM keys")
        # The new features go to a table of their own, a batch at a time (not held in memory), then replace the old ones.
        self.db.execute("CREATE OR REPLACE TABLE refeatured (idx BIGINT, features BLOB)")
        stream = self.db.cursor()  # a connection of its own: keys are inserted while records are read
        for chunk in stream.sql("SELECT idx, doc FROM records ORDER BY idx").to_arrow_reader(batch):
            documents = [orjson.loads(doc) for doc in chunk.column("doc").to_pylist()]
            features = features_of_batch(documents)
            self._add_keys(int(chunk.column("idx")[0].as_py()), features)
            self._insert("refeatured", {"idx": chunk.column("idx"), "features": pa.array(features_to_json(features), pa.binary())})
        stream.close()
        self.db.execute("UPDATE records SET features = refeatured.features FROM refeatured WHERE records.idx = refeatured.idx")
        self.db.execute("DROP TABLE refeatured")

    def add_customers(self, customers: Iterable[dict[str, Any]], batch: int = 50_000) -> None:
        """The stored customers (id, records, resolution hash), as search.resolve.store.scan_customers reads them."""
        ids: list[str] = []
        hashes: list[str | None] = []
        member_rows: dict[str, list[str]] = {"record_id": [], "customer_id": []}
        for customer in customers:
            ids.append(customer["customer_id"])
            hashes.append(customer.get("resolution_hash"))
            member_rows["record_id"].extend(customer["records"])
            member_rows["customer_id"].extend([customer["customer_id"]] * len(customer["records"]))
            if len(ids) >= batch:
                self._insert("customers", {"customer_id": ids, "hash": hashes})
                self._insert("members", member_rows)
                ids, hashes, member_rows = [], [], {"record_id": [], "customer_id": []}
        self._insert("customers", {"customer_id": pa.array(ids, pa.string()), "hash": pa.array(hashes, pa.string())})
        self._insert("members", {k: pa.array(v, pa.string()) for k, v in member_rows.items()})

    def add_links(self, links: Iterable[tuple[str, str]], batch: int = 200_000) -> None:
        rows: dict[str, list[str]] = {"record_id": [], "customer_id": []}
        for record_id, customer_id in links:
            rows["record_id"].append(record_id)
            rows["customer_id"].append(customer_id)
            if len(rows["record_id"]) >= batch:
                self._insert("links", rows)
                rows = {"record_id": [], "customer_id": []}
        self._insert("links", {k: pa.array(v, pa.string()) for k, v in rows.items()})

    def plan(self, max_block_size: int, max_name_block_size: int, partition_records: int, training_records: int, key_of: Any) -> Plan:
        """Components of the candidate graph (and of previous customers), in random order: the
        training sample (whole components, up to `training_records` records) and the ranges
        candidate pairs are scored by (whole components packed up to `partition_records` records; a
        larger component cut in ranges of that many). `key_of(document, hash)` names a frequent key."""
        weak_bound = min(max_name_block_size, max_block_size)
        # A one-sided block (search.resolve.candidates) is compared while it makes at most the pairs
        # of a full weak block; its components hold the whole block (conservative).
        self.db.execute(
            f"""CREATE OR REPLACE TABLE blocks AS
                SELECT h, weak, n, root, CASE WHEN one_sided
                    THEN n >= 2 AND needing > 0 AND needing * (n - needing) + needing * (needing - 1) // 2 <= {pair_budget(weak_bound)}
                    ELSE n BETWEEN 2 AND (CASE WHEN weak THEN {int(weak_bound)} ELSE {int(max_block_size)} END) END AS compared
                FROM (SELECT h, weak, count(*) AS n, min(owner) AS root, bool_or(needs IS NOT NULL) AS one_sided, count_if(needs) AS needing
                      FROM keys GROUP BY h, weak)"""
        )
        edges = f"SELECT k.owner AS a, b.root AS b FROM keys k JOIN blocks b USING (h, weak) WHERE b.compared AND k.owner <> b.root UNION ALL {_MEMBER_EDGES}"
        labels = self._components(edges)
        sizes = np.bincount(labels, minlength=self.count)
        order = self._shuffled_roots(labels, sizes)
        group_of_root, sample = _pack(order, sizes, partition_records, training_records)
        self._table("sample", {"idx": np.flatnonzero(sample[labels]).astype(np.int64)})
        self._table("groups", {"idx": np.arange(self.count, dtype=np.int64), "g": group_of_root[labels]})
        self.db.execute(
            f"""CREATE OR REPLACE TABLE placed AS
                SELECT idx, dense_rank() OVER (ORDER BY g, rn // {int(partition_records)}) - 1 AS rng, rn % {int(partition_records)} AS local
                FROM (SELECT idx, g, row_number() OVER (PARTITION BY g ORDER BY record_id) - 1 AS rn FROM records JOIN groups USING (idx))"""
        )
        self.db.execute(
            "CREATE OR REPLACE TABLE ranged AS SELECT rng, local, features FROM records JOIN placed USING (idx) ORDER BY rng, local"
        )
        plan = Plan(sample=int(sample[labels].sum()), largest_component=int(sizes.max()) if self.count else 0)
        plan.ranges = int(self.db.execute("SELECT coalesce(max(rng) + 1, 0) FROM placed").fetchone()[0])  # type: ignore[index]
        frequent = self.db.execute(
            """SELECT b.h, b.n, b.weak, r.doc FROM blocks b JOIN records r ON r.idx = b.root WHERE b.n >= 2 AND NOT b.compared"""
        ).fetchall()
        # A weak key past its bound is a common name, expected and not reported (as in search.resolve.candidates).
        plan.frequent_keys = {key_of(orjson.loads(doc), int(h)): int(n) for h, n, weak, doc in frequent if not weak}
        plan.frequent_hashes = np.array(sorted({int(h) for h, _, _, _ in frequent}), dtype=np.int64)
        return plan

    def training_documents(self) -> list[dict[str, Any]]:
        """The training sample's records, in record id order."""
        return [document for document, _ in self.training_records()]

    def training_records(self) -> list[tuple[dict[str, Any], RecordFeatures]]:
        """The training sample's records with their spooled features, in record id order."""
        query = "SELECT doc, features FROM records JOIN sample USING (idx) ORDER BY record_id"
        return [(orjson.loads(doc), features_from_json(spooled)) for doc, spooled in self.db.execute(query).fetchall()]

    def range_features(self, number: int, places: np.ndarray) -> list[bytes]:
        """The spooled features (features_to_json) of one scoring range's records at `places` (sorted) in it."""
        self.db.register("wanted", pa.table({"local": places.astype(np.int64)}))
        rows = self.db.execute("SELECT features FROM ranged JOIN wanted USING (local) WHERE rng = ? ORDER BY local", [number]).fetchall()
        self.db.unregister("wanted")
        return [spooled for (spooled,) in rows]

    def add_scored(self, left: np.ndarray, right: np.ndarray, scored: ScoredPairs) -> None:
        """Pairs scored at least the review threshold (spool numbers, `left` first in record id order),
        kept for the partitions they fall in: no pair's comparison is computed twice."""
        columns: dict[str, Any] = {"a": left, "b": right, "weight": scored.weights, "probability": scored.probabilities}
        columns |= {f"level_{n}": scored.vectors[:, n] for n in range(scored.vectors.shape[1])}
        if not self._exists("scored"):
            self._table("scored", columns)
        else:
            self._insert("scored", columns)

    def tiles(self) -> Iterator[Tile]:
        """Every candidate pair once, grouped a range against another, ranges in increasing order."""
        # A one-sided block (search.resolve.candidates: a record holding an initial against the
        # others) may hold far more records than it has pairs to compare — one initial among
        # hundreds of spelled-out namesakes. Its rows needing the pair are joined with the rest
        # ("pairs" below), never the whole block with itself: a self-join of such a block makes
        # the square of its size in rows only to drop them, which at 1M records outgrew DuckDB's
        # memory limit (session 14, after the initial + family-typo key).
        # `owned` (every compared key row with its record's place) is read four times below:
        # MATERIALIZED has DuckDB make it once. DuckDB 2.0 already does so for a CTE read more than
        # once (EXPLAIN shows one CTE and four CTE scans); pyproject allows releases from 1.1, whose
        # planner may inline it instead, joining keys, blocks and placed again for each reading.
        query = """
            WITH owned AS MATERIALIZED (
                SELECT k.h, k.weak, k.needs, k.gate, p.idx, p.rng, p.local FROM keys k JOIN blocks b USING (h, weak) JOIN placed p ON p.idx = k.owner
                WHERE b.compared),
            pairs AS (
                SELECT x.rng AS ra, y.rng AS rb, x.local AS la, y.local AS lb, x.idx AS ia, y.idx AS ib, x.gate AS gate
                FROM (SELECT * FROM owned WHERE needs IS NULL) x JOIN (SELECT * FROM owned WHERE needs IS NULL) y USING (h, weak)
                WHERE x.rng < y.rng OR (x.rng = y.rng AND x.local < y.local)
                UNION ALL
                SELECT CASE WHEN first THEN nr ELSE orng END, CASE WHEN first THEN orng ELSE nr END,
                    CASE WHEN first THEN nl ELSE ol END, CASE WHEN first THEN ol ELSE nl END,
                    CASE WHEN first THEN ni ELSE oi END, CASE WHEN first THEN oi ELSE ni END, gate
                FROM (SELECT n.rng AS nr, n.local AS nl, n.idx AS ni, o.rng AS orng, o.local AS ol, o.idx AS oi, n.gate AS gate,
                        n.rng < o.rng OR (n.rng = o.rng AND n.local < o.local) AS first, o.needs AS both_need
                      FROM (SELECT * FROM owned WHERE needs) n JOIN (SELECT * FROM owned WHERE needs IS NOT NULL) o USING (h, weak)
                      WHERE n.idx <> o.idx)
                WHERE first OR NOT both_need)
            SELECT ra, rb, la, lb, ia, ib, bool_or(gate IS NULL) AS free,
                bit_or(CASE WHEN gate IS NULL THEN 0 ELSE CAST(1 AS INTEGER) << gate END) AS gates
            FROM pairs
            GROUP BY ALL
            ORDER BY ra, rb"""
        carry: list[np.ndarray] = []
        stream = self.db.cursor()  # a connection of its own: each tile's records are read meanwhile
        for chunk in stream.sql(query).to_arrow_reader(EDGE_BATCH):
            columns = [chunk.column(name).to_numpy(zero_copy_only=False) for name in ("ra", "rb", "la", "lb", "ia", "ib", "free", "gates")]
            if carry:
                columns = [np.concatenate((kept, new)) for kept, new in zip(carry, columns, strict=True)]
            starts = np.flatnonzero(np.r_[True, (np.diff(columns[0]) != 0) | (np.diff(columns[1]) != 0)])
            for start, end in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
                yield _tile(columns, start, end)
            carry = [column[starts[-1] :] for column in columns]  # the last tile may go on in the next chunk
        if carry and len(carry[0]):
            yield _tile(carry, 0, len(carry[0]))
        stream.close()

    def regroup(self, scored: np.ndarray, partition_records: int, together: list[tuple[str, str]]) -> Grouping:
        """Components of the scored graph — `scored`, a union-find over spool numbers the kept pairs
        were joined in — with previous customers and the record pairs of `together` (stewards'
        decisions), whole, grouped into partitions of about `partition_records` records."""
        self._table(
            "together", {"a": pa.array([a for a, _ in together], pa.string()), "b": pa.array([b for _, b in together], pa.string())}
        )
        decisions = "SELECT x.idx AS a, y.idx AS b FROM together t JOIN records x ON x.record_id = t.a JOIN records y ON y.record_id = t.b"
        labels = self._components(f"{_MEMBER_EDGES} UNION ALL {decisions}", scored)
        sizes = np.bincount(labels, minlength=self.count)
        order = self._shuffled_roots(labels, sizes)
        part_of_root = np.zeros(self.count, dtype=np.int64)
        part_of_root[order] = (np.cumsum(sizes[order]) - 1) // partition_records
        # A component larger than a partition skips partition numbers: numbered again without gaps.
        parts = np.unique(part_of_root[labels], return_inverse=True)[1].astype(np.int64)
        self.assign(parts)
        return Grouping(np.bincount(parts).tolist() if self.count else [], int(sizes.max()) if self.count else 0)

    def assign(self, parts: np.ndarray) -> None:
        """Put each record (by spool number) in its partition (`parts`), with what the last run stored about it."""
        self._table("parts", {"idx": np.arange(self.count, dtype=np.int64), "p": parts})
        self.db.execute(
            "CREATE OR REPLACE TABLE ordered AS SELECT p, idx, record_id, doc, features FROM records JOIN parts USING (idx) ORDER BY p, record_id"
        )
        if self._exists("scored"):
            # A pair's two records are in one partition (the scored graph's components are whole).
            self.db.execute(
                "CREATE OR REPLACE TABLE partition_scored AS SELECT p, s.* FROM scored s JOIN parts ON parts.idx = s.a ORDER BY p"
            )
        self.db.execute(
            """CREATE OR REPLACE TABLE previous AS
               SELECT p, m.record_id, m.customer_id, c.hash FROM members m JOIN records r USING (record_id)
               JOIN parts USING (idx) LEFT JOIN customers c USING (customer_id) ORDER BY p"""
        )
        self.db.execute(
            """CREATE OR REPLACE TABLE partition_links AS
               SELECT p, l.record_id, l.customer_id FROM links l JOIN records r USING (record_id) JOIN parts USING (idx) ORDER BY p"""
        )

    def _table(self, name: str, columns: dict[str, Any]) -> None:
        self.db.register(f"{name}_batch", pa.table(columns))
        self.db.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_batch")
        self.db.unregister(f"{name}_batch")

    def _shuffled_roots(self, labels: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """The components' roots (`labels`: each spool number's root; `sizes`: records per root) in
        an order unrelated to the data, so the first components are a fair sample of people: by a
        `sample_key` (a portable hash) of each component's least record id. Not by spool number: records come from the index
        in the order its segments hold them, which merges change between two runs over the same
        records — the training sample, and so the model, changed with it (bench/RESULTS.md, session 11)."""
        roots = np.flatnonzero(sizes)
        if not len(roots):
            return roots
        ranked = self.db.execute("SELECT idx, sample_key AS h FROM records ORDER BY record_id").fetchnumpy()
        by_rank = np.asarray(ranked["idx"], dtype=np.int64)  # spool number of each record id, in record id order
        rank = np.empty(self.count, dtype=np.int64)
        rank[by_rank] = np.arange(self.count, dtype=np.int64)
        least = np.full(self.count, self.count, dtype=np.int64)
        np.minimum.at(least, labels, rank)
        first = least[roots]  # each component's least record id, by rank
        keys = np.asarray(ranked["h"], dtype=np.int64)[first]
        return roots[np.lexsort((first, keys))]

    def _components(self, edges: str, parent: np.ndarray | None = None) -> np.ndarray:
        """Each spool number's component root, `edges` (a query of a, b) joined into `parent`."""
        parent = np.arange(self.count, dtype=np.int64) if parent is None else parent
        for chunk in self.db.sql(edges).to_arrow_reader(EDGE_BATCH):
            _union(parent, chunk.column("a").to_numpy(), chunk.column("b").to_numpy())
        return _roots(parent, parent)

    def partition(self, number: int) -> Partition:
        chunk = self.db.execute("SELECT idx, doc, features FROM ordered WHERE p = ? ORDER BY record_id", [number]).fetchnumpy()
        documents = [orjson.loads(doc) for doc in chunk["doc"].tolist()]
        features = [features_from_json(spooled) for spooled in chunk["features"].tolist()]
        rows = self.db.execute("SELECT record_id, customer_id, hash FROM previous WHERE p = ?", [number]).fetchall()
        links = self.db.execute("SELECT record_id, customer_id FROM partition_links WHERE p = ?", [number]).fetchall()
        return Partition(
            documents,
            features,
            {record_id: customer_id for record_id, customer_id, _ in rows},
            {customer_id: digest for _, customer_id, digest in rows if digest},
            dict(links),
            self._partition_scored(number, np.asarray(chunk["idx"], dtype=np.int64)),
        )

    def _partition_scored(self, number: int, idx: np.ndarray) -> ScoredPairs:
        """The partition's scored pairs, each record by its place among the partition's (`idx`, in
        record id order), in (i, j) order as search.resolve.candidates gives them."""
        table = self.db.execute("SELECT * EXCLUDE (p) FROM partition_scored WHERE p = ?", [number]).fetchnumpy()
        pairs = np.stack([places_of(idx, np.asarray(table[side], dtype=np.int64), number) for side in "ab"], axis=1)
        levels = [np.asarray(table[name], dtype=np.int8) for name in table if name.startswith("level_")]
        vectors = np.stack(levels, axis=1) if levels else np.empty((len(pairs), 0), dtype=np.int8)
        rank = np.lexsort((pairs[:, 1], pairs[:, 0]))
        weights, probabilities = np.asarray(table["weight"], dtype=float), np.asarray(table["probability"], dtype=float)
        return ScoredPairs(pairs[rank], vectors[rank], weights[rank], probabilities[rank])

    def _exists(self, table: str) -> bool:
        return bool(self.db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0])

    def customers_without_records(self) -> list[str]:
        """Stored customers none of whose records is live any more."""
        query = "SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM previous) ORDER BY customer_id"
        return [row[0] for row in self.db.execute(query).fetchall()]

    def links_without_records(self) -> list[str]:
        """Stored record links of records that are no longer live."""
        query = "SELECT record_id FROM links WHERE record_id NOT IN (SELECT record_id FROM records) ORDER BY record_id"
        return [row[0] for row in self.db.execute(query).fetchall()]

    def previous_ids(self) -> Iterator[str]:
        for (customer_id,) in self.db.execute("SELECT customer_id FROM customers").fetchall():
            yield customer_id

    def term_frequencies(self, features: Iterable[str]) -> dict[str, dict[str, int]]:
        """search.resolve.frequencies.value_counts over every spooled record, counted in DuckDB."""
        counts: dict[str, dict[str, int]] = {}
        for feature in features:
            repeated = "SELECT value, count(*) AS n FROM terms WHERE feature = ? GROUP BY value HAVING count(*) > 1"
            if feature not in PERSONAL_VALUES:
                counts[feature] = dict(self.db.execute(repeated, [feature]).fetchall())
                continue
            holders: dict[str, int] = {}
            for group in range(HOLDER_GROUPS):
                found = dict(
                    self.db.execute(f"SELECT * FROM ({repeated}) WHERE hash(value) % {HOLDER_GROUPS} = ?", [feature, group]).fetchall()
                )
                rows = self.db.execute(
                    f"SELECT t.value, t.given_ph, t.family_ph FROM terms t JOIN ({repeated}) r USING (value) "
                    f"WHERE t.feature = ? AND hash(t.value) % {HOLDER_GROUPS} = ?",
                    [feature, feature, group],
                ).fetchall()
                records = [RecordFeatures("", "", "", given_ph=g or "", family_ph=f or "", **{feature: v}) for v, g, f in rows]
                holders.update(value_holders(records, feature, found))
            counts[feature] = holders
        return counts


# A previous customer's records, one component: stable ids see each old customer whole.
_MEMBER_EDGES = "SELECT r.idx AS a, min(r.idx) OVER (PARTITION BY m.customer_id) AS b FROM members m JOIN records r USING (record_id)"


class SpoolInconsistent(RuntimeError):
    """What the spool holds contradicts itself: a bug in the partitioned run, not bad data."""


def places_of(idx: np.ndarray, numbers: np.ndarray, partition: int) -> np.ndarray:
    """The place in `idx` (a partition's spool numbers) of each of `numbers`, each of which must be
    there: a pair naming a record outside its partition would otherwise point at a neighbour."""
    order = np.argsort(idx, kind="stable")
    ranked = idx[order]
    at = np.searchsorted(ranked, numbers)
    if len(numbers) and (not len(ranked) or not np.array_equal(ranked[np.minimum(at, len(ranked) - 1)], numbers)):
        raise SpoolInconsistent(f"scored pairs of partition {partition} name records outside it")
    return order[at]


def _tile(columns: list[np.ndarray], start: int, end: int) -> Tile:
    ra, rb, la, lb, ia, ib, free, gates = (column[start:end] for column in columns)
    return Tile(
        int(ra[0]),
        int(rb[0]),
        la.astype(np.int64),
        lb.astype(np.int64),
        ia.astype(np.int64),
        ib.astype(np.int64),
        free.astype(bool),
        gates.astype(np.int64),
    )


def _pack(order: np.ndarray, sizes: np.ndarray, range_records: int, sample_records: int) -> tuple[np.ndarray, np.ndarray]:
    """Components (roots in `order`) packed into groups of at most `range_records` records (a larger
    component a group of its own, cut in ranges later), and the training sample: components in
    that order that fit in `sample_records` records together."""
    group = np.zeros(len(sizes), dtype=np.int64)
    sample = np.zeros(len(sizes), dtype=bool)
    number, filled, taken = 0, 0, 0
    for root, size in zip(order.tolist(), sizes[order].tolist(), strict=True):
        if filled and filled + size > range_records:
            number, filled = number + 1, 0
        group[root], filled = number, filled + size
        if taken + size <= sample_records:
            sample[root], taken = True, taken + size
    return group, sample


def _roots(parent: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The root of each item (pointer jumping: every parent is smaller than its child)."""
    roots = parent[items]
    while True:
        above = parent[roots]
        if np.array_equal(above, roots):
            return roots
        roots = above


def _union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join the trees of each pair (a[k], b[k]): the larger root points to the smaller, so no cycle forms."""
    while len(a):
        ra, rb = _roots(parent, a), _roots(parent, b)
        differ = ra != rb
        a, b, ra, rb = a[differ], b[differ], ra[differ], rb[differ]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
    parent[:] = _roots(parent, parent)
