"""What a customer or a steward stated through the API, kept apart from the source records so that
no re-resolution loses it: consents (PUT /v1/customers/{id}/consents) and rectifications (a steward
correcting a golden field). A statement names the records of its customer at the time, so it follows
them through merges and splits; `overlay` applies statements to freshly built customer documents."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from analyzers.dates import parse_birth_date
from analyzers.errors import InvalidValue
from analyzers.index_settings import subject_statements_index_body
from analyzers.names import normalize_name
from search.highlights import NAME_WORDS, name_word_keys
from search.indices import IndexNames, ensure_versioned_index
from search.rights.consents import customer_consent_fields

# Golden fields a steward may correct, with their normalizers: one value each (contact points are
# lists, corrected at the source).
_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "given_name": normalize_name,
    "family_name": normalize_name,
    "birth_name": normalize_name,
    "birth_date": lambda value: parse_birth_date(value).isoformat(),
    "civility": lambda value: value.strip().rstrip(".").capitalize(),
}
RECTIFIABLE = tuple(_NORMALIZERS)
STATEMENTS_PER_SEARCH = 1000  # record ids asked in one search
# Statements about 1,000 records in one answer: a handful each at most (consents and corrections).
_MAX_STATEMENTS = 10_000


def ensure_statements_index(client: OpenSearch, names: IndexNames) -> None:
    ensure_versioned_index(client, names.subject_statements, subject_statements_index_body(names.layout.replicas))


def add_consents(
    client: OpenSearch, names: IndexNames, customer_id: str, record_ids: list[str], statements: list[dict[str, Any]], by: str
) -> list[dict[str, Any]]:
    """Store consent statements made through the API (origin `api`, who in `by`); returns them."""
    ensure_statements_index(client, names)
    stored = []
    body: list[dict[str, Any]] = []
    for statement in statements:
        document = {"kind": "consent", "record_ids": record_ids, "customer_id": customer_id, "origin": "api", "by": by, **statement}
        body += [{"index": {"_index": names.subject_statements, "_id": uuid.uuid4().hex}}, document]
        stored.append(document)
    if body:
        _check_bulk(client.bulk(body=body, refresh=True))
    return stored


class InvalidRectification(ValueError):
    """A field that cannot be corrected, or a value its normalizer refuses."""


def normalized_value(field: str, value: str) -> str:
    """The corrected value as the field's normalizer writes it (names cased, dates ISO)."""
    normalize = _NORMALIZERS.get(field)
    if normalize is None:
        raise InvalidRectification(f"{field} cannot be corrected here (one of {', '.join(RECTIFIABLE)})")
    try:
        normalized = normalize(value)
    except InvalidValue as error:
        raise InvalidRectification(f"{field}: {error.reason}") from None
    if not normalized:  # nothing visible left (a bidi override, a zero-width space): not a correction
        raise InvalidRectification(f"{field}: no visible character (delete the correction instead)")
    return normalized


def set_rectification(
    client: OpenSearch, names: IndexNames, customer_id: str, record_ids: list[str], field: str, value: str, by: str, why: str
) -> dict[str, Any]:
    """A steward's correction of one golden field: it wins over every source until removed."""
    ensure_statements_index(client, names)
    document = {
        "kind": "rectification",
        "record_ids": record_ids,
        "customer_id": customer_id,
        "field": field,
        "value": value,
        "at": datetime.now(UTC).isoformat(),
        "origin": "manual",
        "by": by,
        "why": why,
    }
    client.index(index=names.subject_statements, id=uuid.uuid4().hex, body=document, refresh=True)
    return document


def remove_rectification(client: OpenSearch, names: IndexNames, record_ids: list[str], field: str) -> int:
    """The steward accepts the sources' value again: the corrections of `field` go. Returns how many."""
    query = {"bool": {"filter": [{"term": {"kind": "rectification"}}, {"term": {"field": field}}, {"terms": {"record_ids": record_ids}}]}}
    response = client.delete_by_query(index=names.subject_statements, body={"query": query}, refresh=True, ignore_unavailable=True)
    return int(response.get("deleted", 0))


def statements_of(client: OpenSearch, names: IndexNames, record_ids: Iterable[str] | None) -> dict[str, list[dict[str, Any]]]:
    """record_id → the statements naming it; every statement when `record_ids` is None (full runs).
    A few records (real-time resolution) cost one search."""
    found: dict[str, dict[str, Any]] = {}
    if record_ids is None:
        if client.indices.exists(index=names.subject_statements):
            hits = scan(client, index=names.subject_statements, query={"query": {"match_all": {}}}, size=2000)
            found.update((hit["_id"], {**hit["_source"], "statement_id": hit["_id"]}) for hit in hits)
    else:
        ids = sorted(set(record_ids))
        for start in range(0, len(ids), STATEMENTS_PER_SEARCH):
            body = statements_query(ids[start : start + STATEMENTS_PER_SEARCH])
            response = client.search(index=names.subject_statements, body=body, ignore_unavailable=True)
            found.update((hit["_id"], {**hit["_source"], "statement_id": hit["_id"]}) for hit in response["hits"]["hits"])
    return _by_record(found.values())


def statements_query(record_ids: list[str]) -> dict[str, Any]:
    """The search for the statements naming any of (at most STATEMENTS_PER_SEARCH) `record_ids`."""
    return {"query": {"terms": {"record_ids": record_ids}}, "size": _MAX_STATEMENTS}


def statements_in(hits: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """statements_of's answer from the hits of one statements_query (a caller's own msearch)."""
    return _by_record({hit["_id"]: {**hit["_source"], "statement_id": hit["_id"]} for hit in hits}.values())


def _by_record(statements: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for statement in statements:
        for record_id in statement["record_ids"]:
            by_record[record_id].append(statement)
    return by_record


def overlay(
    document: dict[str, Any],
    members: list[dict[str, Any]],
    by_record: dict[str, list[dict[str, Any]]],
    earlier_history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A freshly built customer document with its consents (from its records, the API, and the
    history it had: a source that re-sends a record without its consents withdrew nothing) and the
    stewards' rectifications applied. In place, returned."""
    stated = {s["statement_id"]: s for r in members for s in by_record.get(r["record_id"], ())}.values()
    consents = [c for r in members for c in r.get("consents") or ()]
    consents += [_consent(s) for s in stated if s["kind"] == "consent"]
    consents += earlier_history or []
    document.update(customer_consent_fields(consents))
    latest: dict[str, dict[str, Any]] = {}
    for statement in stated:
        if statement["kind"] == "rectification" and statement["at"] > latest.get(statement["field"], {}).get("at", ""):
            latest[statement["field"]] = statement
    for field, statement in latest.items():
        _rectify(document, field, statement)
    return document


def _consent(statement: dict[str, Any]) -> dict[str, Any]:
    return {k: statement[k] for k in ("purpose", "status", "at", "origin", "by") if k in statement}


def _rectify(document: dict[str, Any], field: str, statement: dict[str, Any]) -> None:
    provenance = document.setdefault("provenance", {})
    previous = provenance.get(field)
    provenance[field] = {
        "source": "manual",
        "rule": "rectification",
        "by": statement["by"],
        "updated_at": statement["at"],
        "why": statement["why"],
        # What the sources say now: the steward sees a newer source value and may accept it.
        "source_value": document.get(field),
        "source_provenance": previous,
    }
    if _newer_than(previous, statement["at"]) and document.get(field) != statement["value"]:
        # A source value dated after the correction: it waits for the steward, who accepts it by
        # removing the correction (DELETE …/fields/{field}); until then the correction stays.
        provenance[field]["pending"] = {"value": document.get(field), "source": previous["source"], "updated_at": previous["updated_at"]}
    document[field] = statement["value"]
    if field in ("given_name", "family_name", "birth_name"):
        document["name_variants"] = sorted({*document.get("name_variants", []), statement["value"]})
        document[NAME_WORDS] = name_word_keys(document)


def _newer_than(provenance: dict[str, Any] | None, at: str) -> bool:
    """Whether the source value of `provenance` was dated after the instant `at` (ISO 8601)."""
    updated_at = (provenance or {}).get("updated_at")
    if not updated_at:
        return False
    try:
        return _instant(updated_at) > _instant(at)
    except ValueError:  # a stored date rcu did not write: not known to be newer
        return False


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_bulk(response: dict[str, Any]) -> None:
    if response.get("errors"):
        failed = next(item for item in response["items"] if next(iter(item.values())).get("error"))
        raise RuntimeError(f"writing statements failed: {next(iter(failed.values()))['error']}")
