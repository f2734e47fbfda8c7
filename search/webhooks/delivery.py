"""Pushing the change feed to subscribers: at least once, in order, per subscriber.

A subscriber is a URL bound to sources like an integrator's key: it receives what that key would
read at GET /v1/changes, a batch at a time, POSTed as JSON and signed (search.webhooks.signing).
Its cursor moves only when the receiver answers 2xx, and is kept in OpenSearch: a worker that stops
and starts again resumes there, so a batch may come twice (after a crash between the answer and the
save) but never out of order; receivers skip the seqs they already applied. A failed batch is sent
again — the same changes — after a backoff that doubles from `webhook_backoff_s` up to
`webhook_backoff_max_s`; after `webhook_max_attempts` failures it becomes a dead letter and the
subscriber is parked: nothing later is delivered past a change it missed (an erasure applied
before the creation it follows would be undone) until an admin resumes it, retrying or skipping.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from opensearchpy import OpenSearch

from search.changes import read_changes
from search.indices import IndexNames
from search.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, signature
from search.webhooks.state import (
    SubscriberMoved,
    SubscriberState,
    add_dead_letter,
    ensure_webhooks_index,
    load_state,
    resolve_dead_letters,
    save_state,
)
from settings import Settings

log = logging.getLogger(__name__)
PAYLOAD_FORMAT = "rcu-changes/1"


class WebhookSecretMissing(Exception):
    """A subscriber has no secret in RCU_WEBHOOK_SECRETS: its payloads could not be signed."""


class NotParked(Exception):
    """Resuming a subscriber that has no dead letter waiting."""


@dataclass(frozen=True)
class Subscriber:
    name: str
    url: str
    secret: bytes
    bound: Callable[[str], bool]  # the sources it follows, as an integrator's key at GET /v1/changes


@dataclass(frozen=True)
class DeliveryPolicy:
    batch: int = 500
    timeout_s: float = 10.0
    max_attempts: int = 8
    backoff_s: float = 2.0
    backoff_max_s: float = 600.0
    gap_timeout_s: float = 60.0
    erasure_notice_days: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            settings.webhook_batch,
            settings.webhook_timeout_s,
            settings.webhook_max_attempts,
            settings.webhook_backoff_s,
            settings.webhook_backoff_max_s,
            settings.changes_gap_timeout_s,
            settings.erasure_notice_days,
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure of a batch."""
        return min(self.backoff_s * 2 ** (attempts - 1), self.backoff_max_s)


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered, stepped (nothing of its sources), idle, waiting, failed, dead_lettered, parked
    changes: int = 0
    more: bool = False  # more changes wait: deliver again at once


def deliver_next(
    client: OpenSearch, names: IndexNames, http: httpx.Client, subscriber: Subscriber, policy: DeliveryPolicy, now: datetime
) -> Outcome:
    """One step for one subscriber: the next batch sent, or a retry when its backoff is over."""
    ensure_webhooks_index(client, names)
    state = load_state(client, names, subscriber.name)
    if state.parked:
        return Outcome("parked")
    if state.next_attempt_at and now.isoformat() < state.next_attempt_at:
        return Outcome("waiting")
    limit = state.pending_until - state.cursor if state.pending_until else policy.batch
    page = read_changes(client, names, state.cursor, limit, subscriber.bound, policy.gap_timeout_s, policy.erasure_notice_days)
    state.at = now.isoformat()
    if not page.changes:
        if page.cursor == state.cursor:
            return Outcome("idle")
        state.cursor, state.pending_until = page.cursor, None
        save_state(client, names, state)
        return Outcome("stepped", more=page.more)
    delivery = f"{subscriber.name}:{page.changes[0]['seq']}-{page.changes[-1]['seq']}"
    payload = {
        "format": PAYLOAD_FORMAT,
        "subscriber": subscriber.name,
        "delivery": delivery,
        "cursor": page.cursor,
        "changes": page.changes,
    }
    error = _post(http, subscriber, json.dumps(payload, ensure_ascii=False).encode(), delivery, policy.timeout_s)
    if error is None:
        state.cursor, state.pending_until, state.attempts = page.cursor, None, 0
        state.next_attempt_at, state.last_error = None, None
        state.delivered += len(page.changes)
        save_state(client, names, state)
        log.info("webhook_delivered subscriber=%s delivery=%s changes=%s", subscriber.name, delivery, len(page.changes))
        return Outcome("delivered", len(page.changes), more=page.more)
    state.attempts += 1
    state.last_error, state.pending_until = error, page.cursor
    if state.attempts >= policy.max_attempts:
        state.parked, state.next_attempt_at = True, None
        add_dead_letter(client, names, state, delivery, page.changes[0]["seq"], page.cursor)
        save_state(client, names, state)
        log.warning("webhook_dead_letter subscriber=%s delivery=%s attempts=%s error=%s", subscriber.name, delivery, state.attempts, error)
        return Outcome("dead_lettered")
    state.next_attempt_at = (now + timedelta(seconds=policy.backoff(state.attempts))).isoformat()
    save_state(client, names, state)
    log.info("webhook_failed subscriber=%s delivery=%s attempts=%s error=%s", subscriber.name, delivery, state.attempts, error)
    return Outcome("failed")


def _post(http: httpx.Client, subscriber: Subscriber, body: bytes, delivery: str, timeout_s: float) -> str | None:
    """None when the receiver took the batch (2xx); otherwise what went wrong, without its answer's
    body (a receiver's error page is not ours to store)."""
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery,
        SIGNATURE_HEADER: signature(subscriber.secret, int(time.time()), body),
        "User-Agent": "rcu-webhooks/1",
    }
    try:
        response = http.post(subscriber.url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as error:
        return type(error).__name__
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def deliver_all(
    client: OpenSearch,
    names: IndexNames,
    http: httpx.Client,
    subscribers: Sequence[Subscriber],
    policy: DeliveryPolicy,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, int]:
    """Deliver to every subscriber until none has anything ready (a subscriber waiting for its
    backoff, or parked, does not hold the others back); returns the changes delivered per subscriber."""
    delivered = {s.name: 0 for s in subscribers}
    ready = list(subscribers)
    while ready:
        still = []
        for subscriber in ready:
            try:
                outcome = deliver_next(client, names, http, subscriber, policy, clock())
            except SubscriberMoved:
                log.warning("webhook_state_moved subscriber=%s: another worker delivers it", subscriber.name)
                continue
            delivered[subscriber.name] += outcome.changes
            if outcome.more:
                still.append(subscriber)
        ready = still
    return delivered


def resume(client: OpenSearch, names: IndexNames, subscriber: str, skip: bool, now: datetime) -> SubscriberState:
    """An admin's answer to a dead letter: retry the batch from where the subscriber stopped, or
    skip it (the receiver gets what follows; the dead letter says which seqs it never got)."""
    ensure_webhooks_index(client, names)
    state = load_state(client, names, subscriber)
    if not state.parked:
        raise NotParked(f"the webhook subscriber {subscriber!r} has no dead letter waiting")
    if skip and state.pending_until is not None:
        state.cursor = state.pending_until
    if skip:
        state.pending_until = None
    state.parked, state.attempts, state.next_attempt_at, state.at = False, 0, None, now.isoformat()
    resolve_dead_letters(client, names, subscriber, "skipped" if skip else "retried")
    save_state(client, names, state)
    return state
