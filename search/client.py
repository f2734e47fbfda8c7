"""The one place OpenSearch clients are built: sync for the CLI and indexers, async for the API."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch, JSONSerializer, OpenSearch, Transport
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import SerializationError, TransportError

from settings import Settings

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = (429, 502, 503, 504)


class BackoffTransport(Transport):
    """Retries a request that failed for a transient reason (no connection, time-out, 429, 502–504),
    waiting longer each time: a node that restarts or is busy slows a bulk load down, never breaks it."""

    attempts = 6
    initial_backoff_s = 0.5
    max_backoff_s = 30.0

    def perform_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, self.attempts + 1):
            try:
                return super().perform_request(method, url, *args, **kwargs)
            except TransportError as error:
                transient = isinstance(error, OpenSearchConnectionError) or error.status_code in RETRYABLE_STATUSES
                if not transient or attempt == self.attempts:
                    raise
                wait = min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1))
                log.warning("opensearch_retry method=%s url=%s attempt=%s wait_s=%.1f error=%s", method, url, attempt, wait, error.error)
                time.sleep(wait)
        raise AssertionError("unreachable")


class FastJSONSerializer(JSONSerializer):
    """orjson both ways: bulk loads spend a large share of their Python time serializing, and the
    API decoding search responses."""

    def dumps(self, data: Any) -> str:
        if isinstance(data, str):
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


def bulk_client(settings: Settings, **overrides: Any) -> OpenSearch:
    """A blocking client for long writes: transient failures are retried with exponential back-off."""
    return sync_client(settings, transport_class=BackoffTransport, **overrides)


def async_client(settings: Settings, **overrides: Any) -> AsyncOpenSearch:
    """A non-blocking client for the API."""
    return AsyncOpenSearch(**{**_client_options(settings), **overrides})
