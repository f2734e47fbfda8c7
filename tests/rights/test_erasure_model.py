"""The erasure's share of the match model is always finished, once: a model update that fails after
the records are gone is completed by a retry, by reapply_erasures or by the model's next load, and a
retry after a failed bulk never subtracts a value twice. The search engine is real; only the step
made to fail is replaced (the model's decrements, in the erasure's bulk, fail on the node)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

import search.rights.erasure as erasure
from api.app import create_app
from api.policy import Policy
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.store import load_model, save_model
from search.resolve.term_frequencies import read_tables, stored_counts
from search.rights.erasure import erase_customer, reapply_erasures
from search.rights.erasure_model import OWED_PREFIX
from search.rights.overlay import CustomerNotFound
from settings import Settings, get_settings
from tests.rights.conftest import SUPPRESSION_KEY

RoleClient = Callable[[str], Any]
KEY = SUPPRESSION_KEY.encode()


def _counts_before(email: str) -> dict[str, dict[str, int]]:
    """Counts as a large data set's model holds them (the small world's model keeps no tables)."""
    return {"email": {email: 3, "someone@else.fr": 4}, "family": {"quillerou": 5, "martin": 40}}


# The person's two records each held the e-mail and the name: each count loses two, once.
COUNTS_AFTER = {"email": {"someone@else.fr": 4}, "family": {"quillerou": 3, "martin": 40}}


def _person_in_model(as_role: RoleClient, opensearch: OpenSearch, names: IndexNames, source_id: str) -> str:
    """A customer of two records (crm and ecommerce) whose values the stored model counts; each
    test's person has an e-mail and phone of her own (an erased one is refused afterwards)."""
    email = f"m.quillerou.{source_id.lower()}@sfr.fr"
    person = {
        "source": "crm",
        "source_id": source_id,
        "given_name": "Maëlle",
        "family_name": "Quillerou",
        "birth_date": "1981-04-17",
        "email": email,
        "phone": f"06332211{source_id[-1]}{source_id[-1]}",
        "updated_at": "2026-01-01T10:00:00Z",
    }
    customer = as_role("steward").post("/v1/records", json=person).json()["customer_id"]
    assert as_role("steward").post("/v1/records", json={**person, "source": "ecommerce"}).json()["customer_id"] == customer
    model = load_model(opensearch, names)
    assert model is not None
    model.term_frequencies = _counts_before(email)
    save_model(opensearch, names, model)
    return customer


def _counts(opensearch: OpenSearch, names: IndexNames) -> dict[str, dict[str, int]]:
    model = load_model(opensearch, names, KEY)
    assert model is not None
    return model.term_frequencies


def _stored_counts(opensearch: OpenSearch, names: IndexNames) -> dict[str, dict[str, int]]:
    """The counts as stored, read without loading the model (a load settles what is owed)."""
    stored = stored_counts(opensearch, names)
    assert stored is not None
    return read_tables(opensearch, names, stored)[0]


def _debts(opensearch: OpenSearch, names: IndexNames, customer: str) -> bool:
    return bool(opensearch.exists(index=names.resolution_state, id=OWED_PREFIX + customer))


def _model_part_failing_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's decrements fail on the node in the erasure's first bulk (a script error: the
    person's records, events and the rest of the bulk are gone, the counts unchanged), then work."""
    real = erasure._forget_in_model
    calls: list[int] = []

    def failing(*args: Any) -> list[dict[str, Any]]:
        calls.append(1)
        actions = real(*args)
        if len(calls) == 1:
            failure = {"source": "throw new IllegalStateException('simulated failure')", "lang": "painless"}
            return [{**action, "script": failure} for action in actions]
        return actions

    monkeypatch.setattr(erasure, "_forget_in_model", failing)


def _failing_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """erasure.<name> raises on its first call (a script error, a timeout), then works again."""
    real = getattr(erasure, name)
    calls: list[int] = []

    def flaky(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise TimeoutError(f"{name}: simulated failure")
        return real(*args)

    monkeypatch.setattr(erasure, name, flaky)


def test_a_retried_erasure_finishes_the_model_update_that_failed_after_the_records_went(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ1")
    _model_part_failing_once(monkeypatch)

    with pytest.raises(RuntimeError):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert _stored_counts(opensearch, names) == _counts_before(
        "m.quillerou.mq1@sfr.fr"
    )  # the records are gone, the counts still hold the person
    assert as_role("counter").get(f"/v1/customers/{customer}").status_code == 410

    with pytest.raises(CustomerNotFound):  # the retry finds no customer, and finishes the model part
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert _counts(opensearch, names) == COUNTS_AFTER
    assert not _debts(opensearch, names, customer)

    reapply_erasures(opensearch, names, ResolutionConfig(), KEY, "test")
    with pytest.raises(CustomerNotFound):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert _counts(opensearch, names) == COUNTS_AFTER  # never subtracted twice


def test_reapplying_erasures_finishes_a_model_update_that_failed(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ2")
    _model_part_failing_once(monkeypatch)
    with pytest.raises(RuntimeError):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert _stored_counts(opensearch, names) == _counts_before("m.quillerou.mq2@sfr.fr")

    reapply_erasures(opensearch, names, ResolutionConfig(), KEY, "restore")
    assert _counts(opensearch, names) == COUNTS_AFTER
    assert not _debts(opensearch, names, customer)
    reapply_erasures(opensearch, names, ResolutionConfig(), KEY, "restore")
    assert _counts(opensearch, names) == COUNTS_AFTER


def test_an_erasure_retried_after_its_bulk_failed_subtracts_the_person_from_the_model_once(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ3")
    _failing_once(monkeypatch, "write_refreshed")
    with pytest.raises(TimeoutError):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert as_role("counter").get(f"/v1/customers/{customer}").status_code == 200  # nothing written: still there

    erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert _counts(opensearch, names) == COUNTS_AFTER
    assert not _debts(opensearch, names, customer)
    assert as_role("counter").get(f"/v1/customers/{customer}").status_code == 410


def test_a_model_trained_after_an_erasure_owes_nothing_to_its_pending_debt(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model saved after the erasure was trained without the person: another person's equal
    value (the same family name) keeps its count."""
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ4")
    _model_part_failing_once(monkeypatch)
    with pytest.raises(RuntimeError):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    retrained = load_model(opensearch, names)
    assert retrained is not None
    retrained.term_frequencies = {"family": {"quillerou": 2, "martin": 40}}  # the person's namesakes
    save_model(opensearch, names, retrained)

    reapply_erasures(opensearch, names, ResolutionConfig(), KEY, "restore")
    assert _counts(opensearch, names) == {"family": {"quillerou": 2, "martin": 40}}
    assert not _debts(opensearch, names, customer)


def test_the_next_load_of_the_model_finishes_an_erasure_stopped_after_its_records_went(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No resolution is handed an erased person's counts: the load applies the debt it finds beside
    the model, stores the result, and a second load subtracts nothing more."""
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ5")
    _model_part_failing_once(monkeypatch)
    with pytest.raises(RuntimeError):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    assert _stored_counts(opensearch, names) == _counts_before("m.quillerou.mq5@sfr.fr")
    assert _debts(opensearch, names, customer)

    assert _counts(opensearch, names) == COUNTS_AFTER  # the load, nothing else
    assert _stored_counts(opensearch, names) == COUNTS_AFTER
    assert not _debts(opensearch, names, customer)
    assert _counts(opensearch, names) == COUNTS_AFTER


def test_an_erasure_during_a_full_run_leaves_none_of_the_persons_values_in_the_model_it_saves(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    """The full run scans the records (the person among them), the erasure takes her values out of
    the stored model, then the run saves the model it counted from its scan: her values must not
    come back with it."""
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ6")
    scan_started = datetime.now(UTC)
    counted_from_the_scan = load_model(opensearch, names)
    assert counted_from_the_scan is not None
    counted_from_the_scan.term_frequencies = _counts_before("m.quillerou.mq6@sfr.fr")

    erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    save_model(opensearch, names, counted_from_the_scan, scan_started, KEY)

    assert _stored_counts(opensearch, names) == COUNTS_AFTER
    assert _counts(opensearch, names) == COUNTS_AFTER  # and a load subtracts nothing more


def test_resolving_without_the_suppression_key_says_the_model_still_counts_an_erased_person(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Any]
) -> None:
    """An erasure stopped after its records went leaves a debt only the suppression key settles:
    without it, `rcu resolve` and the API's model say so instead of silently linking on her values."""
    names = IndexNames(world.index_prefix)
    customer = _person_in_model(as_role, opensearch, names, "MQ7")
    _model_part_failing_once(monkeypatch)
    with pytest.raises(RuntimeError):
        erase_customer(opensearch, names, ResolutionConfig(), customer, KEY, "test")
    monkeypatch.delenv("RCU_SUPPRESSION_KEY")
    get_settings.cache_clear()

    result = cli("resolve")
    model = load_model(opensearch, names)

    without_key = world.model_copy(update={"suppression_key": None})
    with TestClient(create_app(without_key, Policy.load(world.policy))) as api:  # type: ignore[arg-type]
        ready = api.get("/ready").json()

    assert "1 erased people and RCU_SUPPRESSION_KEY is not set" in result.output
    assert model is not None and model.unsettled_erasures == 1
    assert "1 erased people: set RCU_SUPPRESSION_KEY" in ready["note"]
    assert _counts(opensearch, names) == COUNTS_AFTER  # with the key, the load settles it
