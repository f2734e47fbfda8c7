"""The one place OpenSearch clients are built: sync for the CLI and indexers, async for the API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch, JSONSerializer, OpenSearch, Transport
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import SerializationError, TransportError

from settings import Settings

log = logging.getLogger(__name__)
# opensearch-py's tracer writes every request and answer body (customers' names, phones, birth
# dates) as curl commands at INFO and DEBUG: a process whose root logger is at INFO would log them.
logging.getLogger("opensearchpy.trace").setLevel(logging.WARNING)

RETRYABLE_STATUSES = (429, 502, 503, 504)


OnWait = Callable[[float, float], None]
"""Told before each wait: seconds waited so far for the node, and the retry budget."""


class BackoffTransport(Transport):
    """Retries a request that failed for a transient reason (no connection, time-out, 429, 502–504),
    waiting longer each time, for as long as `retry_budget_s` (settings.ingest_retry_s): a node that
    restarts or is busy slows a bulk load down, never breaks it. `on_wait` hears of each wait."""

    retry_budget_s = 180.0
    initial_backoff_s = 0.5
    max_backoff_s = 10.0
    on_wait: OnWait | None = None

    def perform_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        first_failure: float | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                return super().perform_request(method, url, *args, **kwargs)
            except TransportError as error:
                transient = isinstance(error, OpenSearchConnectionError) or error.status_code in RETRYABLE_STATUSES
                now = time.monotonic()
                first_failure = first_failure if first_failure is not None else now
                waited = now - first_failure
                if not transient or waited >= self.retry_budget_s:
                    raise
                wait = min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1), self.retry_budget_s - waited)
                log.warning("opensearch_retry method=%s url=%s attempt=%s wait_s=%.1f error=%s", method, url, attempt, wait, error.error)
                if self.on_wait:
                    self.on_wait(waited, self.retry_budget_s)
                time.sleep(wait)


class FastJSONSerializer(JSONSerializer):
    """orjson both ways: bulk loads spend a large share of their Python time serializing, and the
    API decoding search responses."""

    def dumps(self, data: Any) -> str | bytes:
        if isinstance(data, str | bytes):  # already serialized (a bulk body built as NDJSON bytes)
            return data
        return orjson.dumps(data, default=self.default, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes) -> Any:
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError as error:
            raise SerializationError(s, error) from error


def _client_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "hosts": settings.opensearch_urls,
        "timeout": settings.opensearch_timeout_s,
        "verify_certs": settings.opensearch_verify_certs,
        "ssl_show_warn": settings.opensearch_verify_certs,
        "serializer": FastJSONSerializer(),
        "pool_maxsize": 8,
    }
    if settings.opensearch_user:
        password = settings.opensearch_password.get_secret_value() if settings.opensearch_password else ""
        options["http_auth"] = (settings.opensearch_user, password)
    if settings.opensearch_ca_certs:
        options["ca_certs"] = str(settings.opensearch_ca_certs)
    if settings.opensearch_client_cert:
        options["client_cert"] = str(settings.opensearch_client_cert)
    if settings.opensearch_client_key:
        options["client_key"] = str(settings.opensearch_client_key)
    return options


def sync_client(settings: Settings, **overrides: Any) -> OpenSearch:
    """A blocking client for the CLI, the indexers and the tests."""
    return OpenSearch(**{**_client_options(settings), **overrides})


def bulk_client(settings: Settings, on_wait: OnWait | None = None, **overrides: Any) -> OpenSearch:
    """A blocking client for long writes: transient failures are retried with exponential back-off
    for `settings.ingest_retry_s`; `on_wait` hears of each wait (a progress bar saying so)."""
    client = sync_client(settings, transport_class=BackoffTransport, **overrides)
    transport = client.transport
    assert isinstance(transport, BackoffTransport)
    transport.retry_budget_s = settings.ingest_retry_s
    transport.on_wait = on_wait
    return client


def async_client(settings: Settings, **overrides: Any) -> AsyncOpenSearch:
    """A non-blocking client for the API's interactive look-ups: a short deadline
    (`settings.api_opensearch_timeout_s`), so a hung node is a 503 at once, not after 30 s."""
    return AsyncOpenSearch(**{**_client_options(settings), "timeout": settings.api_opensearch_timeout_s, **overrides})
