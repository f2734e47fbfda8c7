"""A data steward's decisions: same person, different people, split, detach — each stored as a
rule over record ids (search.resolve.constraints), applied at once by re-resolving the customers it
names, and reversible.

Concurrency: a decision is taken on customers as they were shown, named by their `version` (a hash
of each customer's id, last resolution and records). Before anything is written the versions are
checked, then each customer state is claimed with a create-only document (`claim:<id>@<version>`,
all in one bulk request; a refused decision gives back the claims it did get, so two stewards never
keep one claim each): a second steward deciding on the same state is refused (ItemChanged) and
nothing of the first decision is lost or overwritten.

Round trips (bench/RESULTS.md, session 9): one multi-get (customers and evidence), one bulk of
claims, the neighbourhood's reads, and one refreshed bulk writing the decision with everything it
changed — the rule is applied before it is stored (search.resolve.pipeline.RuleChanges).

Undo marks the decision undone, deletes the redirects it wrote, and re-resolves its records without
it; customer ids it took (a merged-away id) come back (search.resolve.ids.revive_ids).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import ConflictError, NotFoundError, OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.decision_rules import decisions_query, rule_of
from search.resolve.model import MatchModel
from search.resolve.pipeline import ResolveReport, RuleChanges, resolve_touched
from search.resolve.possible_store import pair_id
from search.resolve.store import ensure_resolution_indices

SAME_PERSON = "same_person"
DIFFERENT_PEOPLE = "different_people"
SPLIT = "split"
DETACH = "detach"
KINDS = (SAME_PERSON, DIFFERENT_PEOPLE, SPLIT, DETACH)
CLAIM = "claim"
PAIR = "pair"  # a decision on two customers
CUSTOMER = "customer"  # a decision on one customer's records
ACTIVE = "active"
UNDONE = "undone"


class ReviewError(Exception):
    """A review request that cannot be carried out as asked."""


class InvalidDecision(ReviewError):
    """The decision does not fit the customers named (a split of every record, a record of another customer…)."""


class ItemChanged(ReviewError):
    """The customers decided on changed since they were shown (another steward's decision, a run),
    or a decision was already undone. `message_fr` says it to the steward."""

    def __init__(self, detail: str, message_fr: str) -> None:
        super().__init__(detail)
        self.message_fr = message_fr


class DecisionNotFound(ReviewError, LookupError):
    """No decision has this id."""


@dataclass(frozen=True)
class DecisionRequest:
    kind: str
    customer_ids: tuple[str, ...]  # same/different: the two; split/detach: the customer, then a split's target
    version: str  # item_version() of the customers as shown
    records: tuple[str, ...] = ()  # split: the records that leave; detach: the one record
    reason: str = ""


@dataclass
class DecisionOutcome:
    decision: dict[str, Any]
    customers: list[str] = field(default_factory=list)  # where the decision's records are now
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step (bench.review prints them)


def customer_version(customer: dict[str, Any]) -> str:
    """A customer's state as a steward saw it: any resolution rewriting it gives another."""
    seed = f"{customer['customer_id']}|{customer.get('resolved_at', '')}|{','.join(sorted(customer.get('records', [])))}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def item_version(versions: dict[str, str]) -> str:
    """The version of a review item from its customers' versions (customer id → customer_version)."""
    seed = "|".join(versions[c] for c in sorted(versions))
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def current_customers(client: OpenSearch, names: IndexNames, customer_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The live customers among `customer_ids` (real-time gets): id, records, sources, resolution date."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    docs = client.mget(index=names.customers, body={"ids": ids}, _source_includes=["customer_id", "records", "sources", "resolved_at"])
    return {d["_id"]: d["_source"] for d in docs["docs"] if d.get("found")}


def _changed(detail: str) -> ItemChanged:
    return ItemChanged(
        detail,
        "Ce dossier a changé depuis son affichage : un autre gestionnaire vient de décider, ou une résolution l'a modifié. "
        "Votre décision n'a pas été appliquée ; rechargez le dossier pour voir son état actuel.",
    )


def _rule(request: DecisionRequest, customers: dict[str, dict[str, Any]]) -> tuple[list[list[str]], list[list[list[str]]]]:
    """(together, apart) in record ids, for the customers as they are."""
    records = {c: sorted(doc["records"]) for c, doc in customers.items()}
    ids = list(request.customer_ids)
    if request.kind == SAME_PERSON and len(ids) == 1:
        return [records[ids[0]]], []  # a customer whose records disagree, confirmed as one person
    if request.kind in (SAME_PERSON, DIFFERENT_PEOPLE):
        if len(ids) != 2 or ids[0] == ids[1]:
            raise InvalidDecision(f"{request.kind} names two different customers (same_person may name one, to confirm it)")
        if request.kind == SAME_PERSON:
            return [records[ids[0]] + records[ids[1]]], []
        return [], [[records[ids[0]], records[ids[1]]]]
    if not 1 <= len(ids) <= (2 if request.kind == SPLIT else 1):
        raise InvalidDecision(f"{request.kind} names one customer" + (" and optionally a target customer" if request.kind == SPLIT else ""))
    own = records[ids[0]]
    chosen = sorted(set(request.records))
    strangers = sorted(set(chosen) - set(own))
    if strangers:
        raise InvalidDecision(f"records not held by customer {ids[0]}: {', '.join(strangers)}")
    if request.kind == DETACH and len(chosen) != 1:
        raise InvalidDecision("detach names exactly one record")
    rest = sorted(set(own) - set(chosen))
    if not chosen or not rest:
        raise InvalidDecision(f"{request.kind} moves some of the customer's records, not none and not all")
    moving = chosen + (records[ids[1]] if len(ids) == 2 else [])
    together = [moving] if len(moving) > 1 else []
    return together, [[chosen, rest]]


def _claim(client: OpenSearch, names: IndexNames, customers: dict[str, dict[str, Any]], decision_id: str, at: str) -> list[str]:
    """Claim each customer's state for this decision, all in one request; ItemChanged when one is
    taken, the others this call took given back (so no state stays claimed by a refused decision).
    Returns the claims' ids."""
    claims = {f"{CLAIM}:{c}@{customer_version(customers[c])}": c for c in sorted(customers)}
    body: list[dict[str, Any]] = []
    for claim, customer_id in claims.items():
        body += [
            {"create": {"_index": names.decisions, "_id": claim}},
            {"decision_id": decision_id, "kind": CLAIM, "customer_ids": [customer_id], "at": at},
        ]  # a create is atomic by id: no refresh needed for the next claimant to be refused
    items = [item["create"] for item in client.bulk(body=body)["items"]]
    taken = [claims[item["_id"]] for item in items if item.get("status") == 409]
    failed = [item for item in items if item.get("status", 500) >= 300 and item.get("status") != 409]
    if not taken and not failed:
        return list(claims)
    _give_back(client, names, [item["_id"] for item in items if item.get("status", 500) < 300])
    if failed:
        raise RuntimeError(f"claiming customers for decision {decision_id} failed: {failed[0].get('error')}")
    raise _changed(f"customer {taken[0]} was decided on by another steward since it was shown")


def _give_back(client: OpenSearch, names: IndexNames, claims: list[str]) -> None:
    if claims:
        client.bulk(body=[{"delete": {"_index": names.decisions, "_id": claim}} for claim in claims])


def _shown(client: OpenSearch, names: IndexNames, customer_ids: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """The live customers named (as current_customers) and the possible match between two of them
    as shown to the steward (its evidence), in one multi-get."""
    ids = sorted(set(customer_ids))
    docs: list[dict[str, Any]] = [
        {"_index": names.customers, "_id": c, "_source": ["customer_id", "records", "sources", "resolved_at"]} for c in ids
    ]
    if len(customer_ids) == 2:
        docs.append(
            {"_index": names.possible_matches, "_id": pair_id(*customer_ids), "_source": ["kind", "probability", "rule", "records"]}
        )
    found = client.mget(body={"docs": docs})["docs"]
    customers = {d["_id"]: d["_source"] for d in found[: len(ids)] if d.get("found")}
    evidence = found[len(ids)] if len(found) > len(ids) else {}
    if not evidence.get("found"):
        return customers, None
    return customers, {k: evidence["_source"].get(k) for k in ("kind", "probability", "rule", "records")}


def decide(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    request: DecisionRequest,
    by: str,
    role: str,
    model: MatchModel | None = None,
) -> DecisionOutcome:
    """Store the decision and apply it: its customers re-resolved with it, visible to searches on
    return. The rule is applied before it is stored and written with what it changed, in one
    refreshed bulk request (search.resolve.pipeline.RuleChanges): the decision, its customers,
    links, redirects, changes and possible matches become searchable together."""
    if request.kind not in KINDS:
        raise InvalidDecision(f"kind is one of {', '.join(KINDS)}")
    ensure_resolution_indices(client, names)
    clock = time.perf_counter()
    customers, evidence = _shown(client, names, request.customer_ids)
    gone = [c for c in request.customer_ids if c not in customers]
    if gone:
        raise _changed(f"customer {', '.join(gone)} no longer exists (merged, split or erased since it was shown)")
    if item_version({c: customer_version(doc) for c, doc in customers.items()}) != request.version:
        raise _changed("the customers changed since they were shown")
    together, apart = _rule(request, customers)
    now = datetime.now(UTC).isoformat()
    decision_id = f"D{uuid.uuid4().hex[:16].upper()}"
    claims = _claim(client, names, customers, decision_id, now)
    bound = sorted({r for group in together for r in group} | {r for pair in apart for side in pair for r in side})
    document: dict[str, Any] = {
        "decision_id": decision_id,
        "kind": request.kind,
        "item": PAIR if request.kind in (SAME_PERSON, DIFFERENT_PEOPLE) and len(request.customer_ids) == 2 else CUSTOMER,
        "status": ACTIVE,
        "customer_ids": list(request.customer_ids),
        "records": bound,
        "sources": sorted({r.partition(":")[0] for r in bound}),
        "together": together,
        "apart": apart,
        "before": {c: sorted(doc["records"]) for c, doc in customers.items()},
        "evidence": evidence,
        "by": by,
        "role": role,
        "reason": request.reason,
        "at": now,
    }
    touched = sorted({r for doc in customers.values() for r in doc["records"]})

    def stored(report: ResolveReport) -> list[dict[str, Any]]:
        # What it did is stored with it: `after` (where its records went) and the redirects it wrote.
        document["after"] = {r: report.customer_ids[r] for r in touched if r in report.customer_ids}
        document["redirects"] = [f"{e.old_id}>{e.new_id}" for e in report.redirects]
        return [{"_op_type": "index", "_index": names.decisions, "_id": decision_id, "_source": document}]

    claimed = time.perf_counter()
    try:
        report = resolve_touched(
            client, names, config, touched, model=model, refresh=True, rules=RuleChanges(added=(rule_of(document),), writes=stored)
        )
    except Exception:
        _give_back(client, names, claims)  # not applied, not stored: the item stays decidable
        raise
    timings = {"check_and_claim": claimed - clock, **report.timings}
    return DecisionOutcome(document, sorted(set(document["after"].values())), timings)


def get_decision(client: OpenSearch, names: IndexNames, decision_id: str) -> tuple[dict[str, Any], int, int]:
    """A decision with its sequence number and primary term (for a conditional update)."""
    try:
        found = client.get(index=names.decisions, id=decision_id)
    except NotFoundError:
        raise DecisionNotFound(decision_id) from None
    if found["_source"].get("kind") == CLAIM:
        raise DecisionNotFound(decision_id)
    return found["_source"], found["_seq_no"], found["_primary_term"]


def undo(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    decision_id: str,
    by: str,
    reason: str,
    model: MatchModel | None = None,
) -> DecisionOutcome:
    """Undo a decision: its records re-resolved without it, the redirects it wrote removed and the
    customer ids it took given back."""
    document, seq_no, primary_term = get_decision(client, names, decision_id)
    if document["status"] != ACTIVE:
        raise ItemChanged(
            f"decision {decision_id} was already undone by {document.get('undone_by')} at {document.get('undone_at')}",
            f"Cette décision a déjà été annulée par {document.get('undone_by')} le {str(document.get('undone_at'))[:16]}.",
        )
    now = datetime.now(UTC).isoformat()
    undone = {"status": UNDONE, "undone_by": by, "undone_at": now, "undo_reason": reason}
    try:
        # The conditional update refuses a second undo; the decision is searchable as undone with
        # the customers it gives back (the same fields, written again in their refreshed request).
        client.update(index=names.decisions, id=decision_id, body={"doc": undone}, if_seq_no=seq_no, if_primary_term=primary_term)
    except ConflictError:
        raise _changed(f"decision {decision_id} changed while being undone") from None

    def stored(report: ResolveReport) -> list[dict[str, Any]]:
        redirects = [{"_op_type": "delete", "_index": names.redirects, "_id": r} for r in document.get("redirects") or []]
        # Written again, not a no-op: an update the node finds unchanged (the conditional one above
        # already set these fields) touches no shard, so the request's refresh would skip the
        # decisions index and the undo would be searchable only at its next periodic refresh.
        return [*redirects, {"_op_type": "update", "_index": names.decisions, "_id": decision_id, "doc": undone, "detect_noop": False}]

    revive = {r: customer_id for customer_id, records in (document.get("before") or {}).items() for r in records}
    touched = sorted(revive) or document["records"]
    changes = RuleChanges(dropped=frozenset({decision_id}), writes=stored)
    report = resolve_touched(client, names, config, touched, model=model, refresh=True, revive=revive, rules=changes)
    document.update(undone)
    return DecisionOutcome(document, sorted({report.customer_ids[r] for r in touched if r in report.customer_ids}))


DECISION_FIELDS = [
    "decision_id",
    "kind",
    "item",
    "status",
    "customer_ids",
    "records",
    "sources",
    "before",
    "after",
    "evidence",
    "by",
    "role",
    "reason",
    "at",
    "undone_by",
    "undone_at",
    "undo_reason",
]


def decisions_about(
    client: OpenSearch, names: IndexNames, customer_ids: list[str], record_ids: list[str], limit: int = 200
) -> list[dict[str, Any]]:
    """The decisions naming any of these customers (as decided on, or after) or records, newest first."""
    body = {
        "query": decisions_query(customer_ids, record_ids),
        "sort": [{"at": "desc"}],
        "size": limit,
        "_source": DECISION_FIELDS,
    }
    response = client.search(index=names.decisions, body=body, ignore_unavailable=True)
    return [hit["_source"] for hit in response.get("hits", {}).get("hits", [])]


def confirmed_customers(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> dict[str, set[frozenset[str]]]:
    """customer id → the record sets stewards confirmed as one person (same_person on one customer)."""
    if not customer_ids:
        return {}
    query = {
        "bool": {
            "filter": [
                {"term": {"status": ACTIVE}},
                {"term": {"kind": SAME_PERSON}},
                {"term": {"item": CUSTOMER}},
                {"terms": {"customer_ids": customer_ids}},
            ]
        }
    }
    response = client.search(index=names.decisions, body={"query": query, "size": 1000, "_source": ["customer_ids", "records"]})
    confirmed: dict[str, set[frozenset[str]]] = {}
    for hit in response["hits"]["hits"]:
        confirmed.setdefault(hit["_source"]["customer_ids"][0], set()).add(frozenset(hit["_source"]["records"]))
    return confirmed
