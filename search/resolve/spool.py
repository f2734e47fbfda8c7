"""The on-disk side of a partitioned full run (search.resolve.partitioned), in DuckDB: the records
as loaded, their blocking-key hashes, the values term frequencies count, and what the last run
stored (customers, their hashes, record links) leave memory as they are read; the candidate graph's
connected components are found by a union-find streamed over its edges, and whole components are
grouped into partitions of about `partition_records` records, each read back in record id order.

Two records in different components never share a blocking key, so resolving each partition on
its own finds every candidate pair the in-memory run finds; a previous customer's records are
joined into one component too, so stable ids (search.resolve.ids) see each old customer whole.
What stays in memory grows with the records at 8 bytes each (the union-find), not with their content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from search.resolve.blocking import blocking_keys
from search.resolve.features import RecordFeatures
from search.resolve.frequencies import PERSONAL_VALUES, value_holders

EDGE_BATCH = 1_000_000
# Personal values (e-mails, phones) repeated across records are counted in holders this many groups at a time.
HOLDER_GROUPS = 16

_SCHEMA = """
CREATE TABLE records (idx BIGINT, record_id VARCHAR, source VARCHAR, doc VARCHAR);
CREATE TABLE keys (h BIGINT, owner BIGINT);
CREATE TABLE terms (feature VARCHAR, value VARCHAR, given_ph VARCHAR, family_ph VARCHAR);
CREATE TABLE customers (customer_id VARCHAR, hash VARCHAR);
CREATE TABLE members (record_id VARCHAR, customer_id VARCHAR);
CREATE TABLE links (record_id VARCHAR, customer_id VARCHAR);
"""


@dataclass
class Partition:
    """One partition's records (documents in record id order) and what the last run stored about them."""

    documents: list[dict[str, Any]]
    previous: dict[str, str]  # record_id → customer_id (the customers index's members)
    hashes: dict[str, str]  # customer_id → stored resolution hash
    links: dict[str, str]  # record_id → customer_id (the record links index)


@dataclass
class Plan:
    sizes: list[int]  # records per partition
    frequent_keys: dict[str, int] = field(default_factory=dict)
    frequent_hashes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    largest_component: int = 0


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
        hashes: list[int] = []
        owners: list[int] = []
        for offset, record in enumerate(features):
            keys = blocking_keys(record)
            hashes.extend(map(hash, keys))
            owners.extend([first + offset] * len(keys))
        self._insert("keys", {"h": np.array(hashes, dtype=np.int64), "owner": np.array(owners, dtype=np.int64)})

    def rekey(self, features_of_batch: Any, batch: int = 20_000) -> None:
        """Block again on every spooled record (a run that found new identifiers blocks on them too)."""
        self.db.execute("DELETE FROM keys")
        reader = self.db.sql("SELECT idx, doc FROM records ORDER BY idx").to_arrow_reader(batch)
        for chunk in reader:
            documents = [orjson.loads(doc) for doc in chunk.column("doc").to_pylist()]
            self._add_keys(int(chunk.column("idx")[0].as_py()), features_of_batch(documents))

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

    def plan(self, max_block_size: int, partition_records: int, key_of: Any) -> Plan:
        """Components of the candidate graph (and of previous customers), grouped into partitions;
        `key_of(document, hash)` names a frequent key for the report."""
        self.db.execute("CREATE OR REPLACE TABLE blocks AS SELECT h, count(*) AS n, min(owner) AS root FROM keys GROUP BY h")
        parent = np.arange(self.count, dtype=np.int64)
        edges = f"""
            SELECT k.owner AS a, b.root AS b FROM keys k JOIN blocks b USING (h)
            WHERE b.n BETWEEN 2 AND {int(max_block_size)} AND k.owner <> b.root
            UNION ALL
            SELECT r.idx AS a, min(r.idx) OVER (PARTITION BY m.customer_id) AS b FROM members m JOIN records r USING (record_id)
        """
        for chunk in self.db.sql(edges).to_arrow_reader(EDGE_BATCH):
            _union(parent, chunk.column("a").to_numpy(), chunk.column("b").to_numpy())
        labels = _roots(parent, parent)
        sizes = np.bincount(labels, minlength=self.count)
        roots = np.flatnonzero(sizes)
        # Components in an order unrelated to the data (a multiplicative hash of their root), so
        # the first partitions are a fair sample of people for training.
        order = roots[np.argsort((roots * 0x9E3779B1) % (1 << 32), kind="stable")]
        part_of_root = np.zeros(self.count, dtype=np.int64)
        part_of_root[order] = (np.cumsum(sizes[order]) - 1) // partition_records
        # A component larger than a partition skips partition numbers: numbered again without gaps.
        parts = np.unique(part_of_root[labels], return_inverse=True)[1].astype(np.int64)
        self.db.register("part_batch", pa.table({"idx": np.arange(self.count, dtype=np.int64), "p": parts}))
        self.db.execute("CREATE OR REPLACE TABLE parts AS SELECT * FROM part_batch")
        self.db.unregister("part_batch")
        self.db.execute(
            "CREATE OR REPLACE TABLE ordered AS SELECT p, record_id, doc FROM records JOIN parts USING (idx) ORDER BY p, record_id"
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
        plan = Plan(sizes=np.bincount(parts).tolist() if self.count else [], largest_component=int(sizes.max()) if self.count else 0)
        frequent = self.db.execute(
            f"SELECT b.h, b.n, r.doc FROM blocks b JOIN records r ON r.idx = b.root WHERE b.n > {int(max_block_size)}"
        ).fetchall()
        plan.frequent_keys = {key_of(orjson.loads(doc), int(h)): int(n) for h, n, doc in frequent}
        plan.frequent_hashes = np.array(sorted(int(h) for h, _, _ in frequent), dtype=np.int64)
        return plan

    def partition(self, number: int) -> Partition:
        documents = [orjson.loads(doc) for (doc,) in self.db.execute("SELECT doc FROM ordered WHERE p = ?", [number]).fetchall()]
        rows = self.db.execute("SELECT record_id, customer_id, hash FROM previous WHERE p = ?", [number]).fetchall()
        links = self.db.execute("SELECT record_id, customer_id FROM partition_links WHERE p = ?", [number]).fetchall()
        return Partition(
            documents,
            {record_id: customer_id for record_id, customer_id, _ in rows},
            {customer_id: digest for _, customer_id, digest in rows if digest},
            dict(links),
        )

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
