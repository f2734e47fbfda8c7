"""Segment conditions and action rules stored as OpenSearch percolator queries, and percolation.

A file's definitions are stored under a generation (the hash of their content) and switched on by
one `active:<kind>` document naming it, only once every query was accepted: a file OpenSearch
refuses (an unknown field, a malformed query) leaves the generation in force untouched. Loading
the same file twice, from two processes, writes the same documents.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from opensearchpy import OpenSearch, RequestError

from analyzers.index_settings import conditions_index_body
from search.indices import IndexNames, ensure_versioned_index
from search.segments.definitions import MAX_DEFINITIONS, ActionRule, DefinitionsRefused, SegmentDefinition, query_of

log = logging.getLogger(__name__)
Kind = Literal["segment", "action"]
KINDS: tuple[Kind, ...] = ("segment", "action")
_PERCOLATE_BATCH = 500


def ensure_conditions_index(client: OpenSearch, names: IndexNames) -> None:
    ensure_versioned_index(client, names.conditions, conditions_index_body(names.layout.replicas))


def generation_of(definitions: Sequence[SegmentDefinition | ActionRule]) -> str:
    content = json.dumps([d.model_dump(exclude={"line"}) for d in definitions], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _refusal(error: RequestError) -> str:
    """OpenSearch's reason for refusing a query, its innermost cause (no stack, no index name)."""
    info = error.info if isinstance(error.info, dict) else {}
    cause = info.get("error", {})
    while isinstance(cause, dict) and cause.get("caused_by"):
        cause = cause["caused_by"]
    return cause.get("reason", str(error.error)) if isinstance(cause, dict) else str(error.error)


def store_definitions(
    client: OpenSearch, names: IndexNames, kind: Kind, definitions: Sequence[SegmentDefinition | ActionRule], path: Path | str
) -> str:
    """Store `definitions` as the generation in force for `kind`; returns it. DefinitionsRefused,
    with the line of the first refused condition, leaves the previous generation in force."""
    ensure_conditions_index(client, names)
    generation = generation_of(definitions)
    previous = active_generation(client, names, kind)
    if previous == generation:
        return generation
    if kind == "segment" and previous is None:
        # No profile was kept live while no segment was defined: the next run recomputes them all.
        forget_last_run(client, names)
    for definition in definitions:
        document = {
            "condition_kind": kind,
            "name": definition.name,
            "generation": generation,
            "query": query_of(definition.condition),
            "definition": definition.model_dump(exclude={"line", "condition"}),
        }
        try:
            client.index(index=names.conditions, id=f"{kind}:{generation}:{definition.name}", body=document)
        except RequestError as error:
            _drop(client, names, kind, {"term": {"generation": generation}})
            raise DefinitionsRefused(path, definition.line or None, f"{definition.name}: condition refused: {_refusal(error)}") from None
    client.index(index=names.conditions, id=f"active:{kind}", body={"condition_kind": "active", "name": kind, "generation": generation})
    client.indices.refresh(index=names.conditions)
    _drop(client, names, kind, {"bool": {"must_not": [{"term": {"generation": generation}}]}})
    log.info("definitions_stored kind=%s generation=%s count=%d", kind, generation, len(definitions))
    return generation


def _drop(client: OpenSearch, names: IndexNames, kind: Kind, which: dict[str, Any]) -> None:
    query = {"query": {"bool": {"filter": [{"term": {"condition_kind": kind}}, which]}}}
    client.delete_by_query(index=names.conditions, body=query, refresh=True, conflicts="proceed")


# The last `rcu segments` run over every profile: the moment it computed them at.
_LAST_RUN = "run:segment"


def last_run(client: OpenSearch, names: IndexNames) -> datetime | None:
    """When every profile was last brought up to date (None: never, or the live path stopped since)."""
    response = client.get(index=names.conditions, id=_LAST_RUN, ignore=[404])
    return datetime.fromisoformat(response["_source"]["definition"]["at"]) if response.get("found") else None


def mark_run(client: OpenSearch, names: IndexNames, at: datetime) -> None:
    body = {"condition_kind": "run", "name": "segment", "definition": {"at": at.isoformat()}}
    ensure_conditions_index(client, names)
    client.index(index=names.conditions, id=_LAST_RUN, body=body, refresh=True)


def forget_last_run(client: OpenSearch, names: IndexNames) -> None:
    """The next `rcu segments` recomputes every profile (their figures may have moved behind the live path's back)."""
    client.delete(index=names.conditions, id=_LAST_RUN, refresh=True, ignore=[404])


def active_generation(client: OpenSearch, names: IndexNames, kind: Kind) -> str | None:
    response = client.get(index=names.conditions, id=f"active:{kind}", ignore=[404])
    return response["_source"]["generation"] if response.get("found") else None


def generations_in_force(
    client: OpenSearch, names: IndexNames, *extra: tuple[str, str]
) -> tuple[dict[Kind, str | None], list[dict[str, Any]]]:
    """The generation in force of each kind, in one round trip; `extra` (index, id) documents are
    read by the same multi-get (a profile beside them), returned as the multi-get gave them."""
    return generations_from(client.mget(body=generations_mget_body(names, *extra))["docs"])


def generations_mget_body(names: IndexNames, *extra: tuple[str, str]) -> dict[str, Any]:
    """The multi-get of `generations_in_force`, for a caller sending it through another client."""
    wanted = [{"_index": names.conditions, "_id": f"active:{kind}"} for kind in KINDS]
    return {"docs": wanted + [{"_index": index, "_id": id_} for index, id_ in extra]}


def generations_from(docs: list[dict[str, Any]]) -> tuple[dict[Kind, str | None], list[dict[str, Any]]]:
    """The answer of `generations_mget_body`'s multi-get read: the generations, the extra documents."""
    found = {kind: doc["_source"]["generation"] if doc.get("found") else None for kind, doc in zip(KINDS, docs, strict=False)}
    return found, docs[len(KINDS) :]


# Definitions by (conditions index, kind, generation): a generation is the hash of its content, so
# what it names never changes — read once per process, not once per 360 view.
_DEFINITIONS: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
_DEFINITIONS_KEPT = 64


def cached_definitions(names: IndexNames, kind: Kind, generation: str) -> list[dict[str, Any]] | None:
    """The definitions of one generation if this process already read them (`definitions_of`)."""
    return _DEFINITIONS.get((names.conditions, kind, generation))


def definitions_of(client: OpenSearch, names: IndexNames, kind: Kind, generation: str) -> list[dict[str, Any]]:
    """The stored definitions of one generation (name, label… and the query), by name."""
    key = (names.conditions, kind, generation)
    if key not in _DEFINITIONS:
        query = {"bool": {"filter": [{"term": {"condition_kind": kind}}, {"term": {"generation": generation}}]}}
        body = {"query": query, "_source": ["definition", "query"], "size": MAX_DEFINITIONS}
        hits = client.search(index=names.conditions, body=body)["hits"]["hits"]
        found = [{**hit["_source"]["definition"], "query": hit["_source"]["query"]} for hit in hits]
        if len(_DEFINITIONS) >= _DEFINITIONS_KEPT:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = sorted(found, key=lambda d: d["name"])
    return [dict(definition) for definition in _DEFINITIONS[key]]


def definitions_in_force(client: OpenSearch, names: IndexNames, kind: Kind) -> list[dict[str, Any]]:
    """The stored definitions in force (name, label… without the condition's line), by name."""
    if not client.indices.exists(index=names.conditions):
        return []
    generation = active_generation(client, names, kind)
    if generation is None:
        return []
    return definitions_of(client, names, kind, generation)


def percolate_body(kind: Kind, generation: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The search of the definitions of one generation `documents` meet (one slot per document)."""
    return {
        "query": {
            "bool": {
                "filter": [
                    {"term": {"condition_kind": kind}},
                    {"term": {"generation": generation}},
                    {"percolate": {"field": "query", "documents": documents}},
                ]
            }
        },
        "_source": ["name"],
        "size": 10_000,
    }


def matched_slots(response: dict[str, Any], count: int) -> list[list[str]]:
    """Per document of a `percolate_body` search, the names it met, sorted."""
    matched: list[list[str]] = [[] for _ in range(count)]
    for hit in response["hits"]["hits"]:
        for slot in hit.get("fields", {}).get("_percolator_document_slot", [0]):
            matched[slot].append(hit["_source"]["name"])
    return [sorted(names_) for names_ in matched]


def percolate(
    client: OpenSearch, names: IndexNames, kind: Kind, profiles: list[dict[str, Any]], generation: str | None = None
) -> list[list[str]]:
    """For each profile, the names of the definitions of `kind` in force (of `generation` when the
    caller already read it) whose condition it meets."""
    if not profiles:
        return []
    if generation is None:
        if not client.indices.exists(index=names.conditions):
            return [[] for _ in profiles]
        generation = active_generation(client, names, kind)
        if generation is None:
            return [[] for _ in profiles]
    matched: list[list[str]] = []
    for start in range(0, len(profiles), _PERCOLATE_BATCH):
        batch = profiles[start : start + _PERCOLATE_BATCH]
        matched += matched_slots(client.search(index=names.conditions, body=percolate_body(kind, generation, batch)), len(batch))
    return matched
