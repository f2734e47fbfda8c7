"""Restoring a snapshot older than an erasure never brings the erased person back: the suppression
list is not rolled back (the cluster's own is kept, or the newest snapshot's is taken) and the
erasures it records are applied again, with their first date; everyone else comes back as saved."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan
from pydantic import SecretStr

from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.rights.erasure import erase_customer
from search.rights.suppression import SuppressionKeyMissing
from search.snapshots import SnapshotError, create_snapshot, restore_snapshot
from settings import Settings
from tests.conftest import write_jsonl
from tests.rights.conftest import SUPPRESSION_KEY
from tests.rights.people import GASPARD, GASPARD_IDENTIFIERS, RIGHTS_PEOPLE


@pytest.fixture(scope="module")
def saved(
    opensearch: OpenSearch, opensearch_settings: Settings, test_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """A small world snapshotted before Gaspard's erasure ("before") and after it ("after")."""
    names = IndexNames(f"{test_prefix}-restore-{uuid.uuid4().hex[:6]}")
    folder = tmp_path_factory.mktemp("restore")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(folder / "people.jsonl", RIGHTS_PEOPLE)]))
    resolve_all(opensearch, names, ResolutionConfig())
    settings = opensearch_settings.model_copy(
        update={
            "index_prefix": names.prefix,
            "suppression_key": SecretStr(SUPPRESSION_KEY),
            # A folder inside the node's `path.repo`, and a repository of this module's own.
            "snapshot_path": opensearch_settings.snapshot_location / names.prefix,
            "snapshot_repository": names.prefix,
        }
    )
    opensearch.indices.refresh(index=names.record_customers)
    gaspard = opensearch.get(index=names.record_customers, id=f"{GASPARD[0]['source']}:{GASPARD[0]['source_id']}")["_source"]["customer_id"]
    before = create_snapshot(opensearch, names, settings, "before")
    receipt = erase_customer(opensearch, names, ResolutionConfig(), gaspard, SUPPRESSION_KEY.encode(), "test")
    create_snapshot(opensearch, names, settings, "after")
    yield {"names": names, "settings": settings, "gaspard": gaspard, "erased_at": receipt.erased_at, "before": before}
    opensearch.snapshot.delete_repository(repository=settings.snapshot_repository, ignore=[404])
    shutil.rmtree(settings.snapshot_location, ignore_errors=True)


def _drop(client: OpenSearch, names: IndexNames, keep_suppression: bool) -> None:
    """What an operator does before restoring: delete the prefix's indices (all, or all but the list)."""
    indices = [i for i in client.indices.get(index=f"{names.prefix}-*") if not (keep_suppression and i.startswith(names.suppression))]
    client.indices.delete(index=",".join(indices))


def _nothing_of_gaspard(client: OpenSearch, names: IndexNames, gaspard: str, erased_at: str) -> None:
    client.indices.refresh(index=f"{names.prefix}-*")
    documents = [json.dumps(hit).lower() for hit in scan(client, index=f"{names.prefix}-*", query={"query": {"match_all": {}}})]
    assert len(documents) > 20  # the others came back
    for value in (
        GASPARD_IDENTIFIERS["email"],
        GASPARD_IDENTIFIERS["phone_e164"],
        "gaspard",
        *(f'"{r["source_id"].lower()}"' for r in GASPARD),
    ):
        assert not [d[:160] for d in documents if value in d], value
    marker = client.get(index=names.redirects, id=f"{gaspard}>erased")["_source"]
    assert marker["at"] == erased_at  # the erasure keeps its first date


def test_restoring_an_older_snapshot_beside_the_suppression_list_erases_the_person_again(opensearch: OpenSearch, saved: dict) -> None:
    names, settings = saved["names"], saved["settings"]
    _drop(opensearch, names, keep_suppression=True)
    report = restore_snapshot(opensearch, names, settings, "before")
    assert report.suppression_from is None and report.erased_again == [saved["gaspard"]]
    assert report.indices and not any(index.startswith(names.suppression) for index in report.indices)
    _nothing_of_gaspard(opensearch, names, saved["gaspard"], saved["erased_at"])


def test_restoring_into_an_empty_cluster_takes_the_newest_suppression_list_and_erases_the_person_again(
    opensearch: OpenSearch, saved: dict
) -> None:
    names, settings = saved["names"], saved["settings"]
    _drop(opensearch, names, keep_suppression=False)
    report = restore_snapshot(opensearch, names, settings, "before")
    assert report.suppression_from == "after" and report.erased_again == [saved["gaspard"]]
    _nothing_of_gaspard(opensearch, names, saved["gaspard"], saved["erased_at"])


def test_a_restore_without_the_suppression_key_brings_nobody_back(opensearch: OpenSearch, saved: dict) -> None:
    names, settings = saved["names"], saved["settings"]
    _drop(opensearch, names, keep_suppression=True)
    with pytest.raises(SuppressionKeyMissing):
        restore_snapshot(opensearch, names, settings.model_copy(update={"suppression_key": None}), "before")
    assert not opensearch.indices.exists(index=names.records)
    restore_snapshot(opensearch, names, settings, "before")  # with the key, as the message says
    _nothing_of_gaspard(opensearch, names, saved["gaspard"], saved["erased_at"])


def test_the_restore_refuses_over_indices_other_than_the_suppression_list(opensearch: OpenSearch, saved: dict) -> None:
    with pytest.raises(SnapshotError, match=f"keep {saved['names'].suppression}"):
        restore_snapshot(opensearch, saved["names"], saved["settings"], "before")
