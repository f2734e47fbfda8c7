"""What became of each proposal (proposed, accepted, refused with a reason), kept for the cooldown
after a refusal and for acceptance rates per action, shop and month."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from opensearchpy import OpenSearch

from analyzers.index_settings import action_outcomes_index_body
from search.indices import IndexNames, ensure_versioned_index

Outcome = Literal["proposed", "accepted", "refused"]
# Refusals of one action by one customer read back for the cooldown: the latest is what counts.
_MAX_ACTIONS = 1000


@dataclass(frozen=True)
class ActionOutcome:
    customer_id: str
    action: str
    outcome: Outcome
    at: datetime
    channel: str
    shop: str | None
    reason: str | None
    by: str  # the key or token that recorded it
    outcome_id: str = ""

    def document(self) -> dict[str, Any]:
        document = asdict(self)
        document["at"] = self.at.isoformat()
        document["month"] = self.at.strftime("%Y-%m")
        return {k: v for k, v in document.items() if v is not None}


def ensure_outcomes_index(client: OpenSearch, names: IndexNames) -> None:
    ensure_versioned_index(client, names.action_outcomes, action_outcomes_index_body(names.layout.replicas))


def store_outcome(client: OpenSearch, names: IndexNames, outcome: ActionOutcome) -> ActionOutcome:
    """Keep an outcome (visible to the next proposal when this returns); returns it with its id."""
    ensure_outcomes_index(client, names)
    stored = ActionOutcome(**{**asdict(outcome), "outcome_id": outcome.outcome_id or uuid.uuid4().hex})
    client.index(index=names.action_outcomes, id=stored.outcome_id, body=stored.document(), refresh=True)
    return stored


def last_refusals(client: OpenSearch, names: IndexNames, customer_id: str) -> dict[str, datetime]:
    """action → when the customer last refused it."""
    if not client.indices.exists(index=names.action_outcomes):
        return {}
    body = {
        "size": 0,
        "query": {"bool": {"filter": [{"term": {"customer_id": customer_id}}, {"term": {"outcome": "refused"}}]}},
        "aggs": {"actions": {"terms": {"field": "action", "size": _MAX_ACTIONS}, "aggs": {"last": {"max": {"field": "at"}}}}},
    }
    buckets = client.search(index=names.action_outcomes, body=body)["aggregations"]["actions"]["buckets"]
    return {b["key"]: datetime.fromisoformat(b["last"]["value_as_string"].replace("Z", "+00:00")) for b in buckets}


Grouping = Literal["action", "shop", "month"]


def acceptance_rates(client: OpenSearch, names: IndexNames, by: Grouping, since: datetime | None = None) -> list[dict[str, Any]]:
    """Per action, shop or month: proposals, acceptances, refusals, and the acceptance rate
    (accepted out of the proposals answered: accepted + refused; None before any answer)."""
    if not client.indices.exists(index=names.action_outcomes):
        return []
    query: dict[str, Any] = {"range": {"at": {"gte": since.isoformat()}}} if since else {"match_all": {}}
    field = {"action": "action", "shop": "shop", "month": "month"}[by]
    body = {
        "size": 0,
        "query": query,
        "aggs": {
            "groups": {
                "terms": {"field": field, "size": 10_000, "missing": "—", "order": {"_key": "asc"}},
                "aggs": {"outcomes": {"terms": {"field": "outcome", "size": 3}}},
            }
        },
    }
    client.indices.refresh(index=names.action_outcomes)
    rows = []
    for bucket in client.search(index=names.action_outcomes, body=body)["aggregations"]["groups"]["buckets"]:
        counts = {b["key"]: b["doc_count"] for b in bucket["outcomes"]["buckets"]}
        accepted, refused = counts.get("accepted", 0), counts.get("refused", 0)
        answered = accepted + refused
        rows.append(
            {
                by: bucket["key"],
                "proposed": counts.get("proposed", 0),
                "accepted": accepted,
                "refused": refused,
                "acceptance_rate": round(accepted / answered, 4) if answered else None,
            }
        )
    return rows


def forget_outcomes(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> None:
    """Remove the outcomes of erased customers (their refusal reasons are what they said)."""
    if customer_ids and client.indices.exists(index=names.action_outcomes):
        query = {"query": {"terms": {"customer_id": customer_ids}}}
        client.delete_by_query(index=names.action_outcomes, body=query, refresh=True, conflicts="proceed")
