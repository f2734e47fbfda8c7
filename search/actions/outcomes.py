"""What became of each proposal (proposed, accepted, refused with a reason): `proposal` events of
the customer (search.events), read back for the cooldown after a refusal — through the customer's
records, so it follows merges and splits — and for acceptance rates per action, shop and month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from opensearchpy import OpenSearch

from search.indices import IndexNames

Outcome = Literal["proposed", "accepted", "refused"]
# Distinct actions read back per customer, and groups per report: far above any rules file.
_MAX_GROUPS = 10_000


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
    outcome_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def _events_exist(client: OpenSearch, names: IndexNames) -> bool:
    return bool(client.indices.exists_alias(name=names.events))


def last_refusals(client: OpenSearch, names: IndexNames, record_ids: list[str]) -> dict[str, datetime]:
    """action → when the customer holding `record_ids` last refused it."""
    if not record_ids or not _events_exist(client, names):
        return {}
    return refusals_from(client.search(index=names.events, body=refusals_body(record_ids)))


def refusals_body(record_ids: list[str]) -> dict[str, Any]:
    """The search of the latest refusal of each action by the customer holding `record_ids`."""
    filters = [{"terms": {"record_id": record_ids}}, {"term": {"type": "proposal"}}, {"term": {"outcome": "refused"}}]
    return {
        "size": 0,
        "query": {"bool": {"filter": filters}},
        "aggs": {"actions": {"terms": {"field": "action", "size": _MAX_GROUPS}, "aggs": {"last": {"max": {"field": "at"}}}}},
    }


def refusals_from(response: dict[str, Any]) -> dict[str, datetime]:
    """action → when it was last refused, out of `refusals_body`'s answer (none without events)."""
    buckets = (response.get("aggregations") or {}).get("actions", {}).get("buckets", [])
    return {b["key"]: datetime.fromisoformat(b["last"]["value_as_string"].replace("Z", "+00:00")) for b in buckets}


Grouping = Literal["action", "shop", "month"]


def _grouping(by: Grouping) -> dict[str, Any]:
    if by == "month":
        return {"date_histogram": {"field": "at", "calendar_interval": "month", "format": "yyyy-MM", "min_doc_count": 1}}
    return {"terms": {"field": by, "size": _MAX_GROUPS, "missing": "—", "order": {"_key": "asc"}}}


def acceptance_rates(client: OpenSearch, names: IndexNames, by: Grouping) -> list[dict[str, Any]]:
    """Per action, shop or month: proposals, acceptances, refusals, and the acceptance rate
    (accepted out of the proposals answered, accepted + refused; None before any answer)."""
    if not _events_exist(client, names):
        return []
    body = {
        "size": 0,
        "query": {"bool": {"filter": [{"term": {"type": "proposal"}}]}},
        "aggs": {"groups": {**_grouping(by), "aggs": {"outcomes": {"terms": {"field": "outcome", "size": 3}}}}},
    }
    rows = []
    for bucket in client.search(index=names.events, body=body)["aggregations"]["groups"]["buckets"]:
        counts = {b["key"]: b["doc_count"] for b in bucket["outcomes"]["buckets"]}
        accepted, refused = counts.get("accepted", 0), counts.get("refused", 0)
        answered = accepted + refused
        rows.append(
            {
                by: bucket.get("key_as_string", bucket["key"]),
                "proposed": counts.get("proposed", 0),
                "accepted": accepted,
                "refused": refused,
                "acceptance_rate": round(accepted / answered, 4) if answered else None,
            }
        )
    return rows
