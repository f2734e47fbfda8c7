"""Where each webhook subscriber stands, kept in `<prefix>-webhooks` so deliveries survive restarts:
its cursor (the last change seq it acknowledged, or stepped over as not its sources'), the batch
being retried, and the dead letters an admin sees."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError

from analyzers.index_settings import webhooks_index_body
from search.indices import IndexNames, ensure_versioned_index


class SubscriberMoved(Exception):
    """Another worker saved this subscriber's state meanwhile: this one's delivery is not recorded."""


@dataclass
class SubscriberState:
    subscriber: str
    cursor: int = 0
    pending_until: int | None = None  # the last seq of the batch being retried, so a retry sends the same batch
    attempts: int = 0
    next_attempt_at: str | None = None
    parked: bool = False  # a dead letter waits for an admin: nothing is delivered past it
    delivered: int = 0
    last_error: str | None = None
    at: str | None = None
    # OpenSearch's optimistic concurrency: a save fails if another worker saved in between.
    seq_no: int | None = None
    primary_term: int | None = None

    def document(self) -> dict[str, Any]:
        fields = {k: v for k, v in asdict(self).items() if k not in ("seq_no", "primary_term")}
        return {"type": "state", **fields}


_ENSURED: set[str] = set()


def ensure_webhooks_index(client: OpenSearch, names: IndexNames) -> None:
    """Create the webhooks index if missing (checked once per process)."""
    if names.prefix not in _ENSURED:
        ensure_versioned_index(client, names.webhooks, webhooks_index_body(names.layout.replicas))
        _ENSURED.add(names.prefix)


def _state_id(subscriber: str) -> str:
    return f"state:{subscriber}"


def load_state(client: OpenSearch, names: IndexNames, subscriber: str) -> SubscriberState:
    response = client.get(index=names.webhooks, id=_state_id(subscriber), ignore=[404])
    if not response.get("found"):
        return SubscriberState(subscriber)
    source = {k: v for k, v in response["_source"].items() if k != "type"}
    return SubscriberState(**source, seq_no=response["_seq_no"], primary_term=response["_primary_term"])


def save_state(client: OpenSearch, names: IndexNames, state: SubscriberState) -> None:
    """Write the state, unless another worker wrote it since it was loaded (SubscriberMoved)."""
    concurrency: dict[str, Any] = (
        {"op_type": "create"} if state.seq_no is None else {"if_seq_no": state.seq_no, "if_primary_term": state.primary_term}
    )
    try:
        response = client.index(index=names.webhooks, id=_state_id(state.subscriber), body=state.document(), **concurrency)
    except ConflictError:
        raise SubscriberMoved(state.subscriber) from None
    state.seq_no, state.primary_term = response["_seq_no"], response["_primary_term"]


def add_dead_letter(client: OpenSearch, names: IndexNames, state: SubscriberState, delivery: str, from_seq: int, to_seq: int) -> None:
    document = {
        "type": "dead_letter",
        "subscriber": state.subscriber,
        "delivery": delivery,
        "from_seq": from_seq,
        "to_seq": to_seq,
        "attempts": state.attempts,
        "last_error": state.last_error,
        "at": state.at,
    }
    client.index(index=names.webhooks, id=f"dead:{delivery}", body=document, refresh=True)


def webhook_states(client: OpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    """Every subscriber's state and dead letters (unresolved first), for an admin."""
    if not client.indices.exists(index=names.webhooks):
        return []
    client.indices.refresh(index=names.webhooks)
    hits = client.search(index=names.webhooks, body={"query": {"match_all": {}}, "size": 1000, "sort": [{"at": "desc"}]})
    documents = [hit["_source"] for hit in hits["hits"]["hits"]]
    letters = [{k: v for k, v in d.items() if k != "type"} for d in documents if d["type"] == "dead_letter"]
    states = [{k: v for k, v in d.items() if k != "type"} for d in documents if d["type"] == "state"]
    for state in states:
        mine = [letter for letter in letters if letter["subscriber"] == state["subscriber"]]
        state["dead_letters"] = sorted(mine, key=lambda d: (d.get("resolved") is not None, d["from_seq"]))
    return sorted(states, key=lambda s: s["subscriber"])


def resolve_dead_letters(client: OpenSearch, names: IndexNames, subscriber: str, how: str) -> None:
    """Mark the subscriber's open dead letters resolved (`retried` or `skipped`)."""
    client.update_by_query(
        index=names.webhooks,
        body={
            "query": {
                "bool": {
                    "filter": [{"term": {"type": "dead_letter"}}, {"term": {"subscriber": subscriber}}],
                    "must_not": [{"exists": {"field": "resolved"}}],
                }
            },
            "script": {"source": "ctx._source.resolved = params.how", "params": {"how": how}},
        },
        refresh=True,
        conflicts="proceed",
    )
