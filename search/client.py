"""The one place OpenSearch clients are built: sync for the CLI and indexers, async for the API."""

from __future__ import annotations

from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch

from rcu.settings import Settings, get_settings


def _client_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "hosts": [settings.opensearch_url],
        "timeout": settings.opensearch_timeout_s,
        "verify_certs": settings.opensearch_verify_certs,
        "ssl_show_warn": settings.opensearch_verify_certs,
    }
    if settings.opensearch_user:
        password = settings.opensearch_password.get_secret_value() if settings.opensearch_password else ""
        options["http_auth"] = (settings.opensearch_user, password)
    if settings.opensearch_ca_certs:
        options["ca_certs"] = str(settings.opensearch_ca_certs)
    return options


def sync_client(settings: Settings | None = None, **overrides: Any) -> OpenSearch:
    """A blocking client for the CLI, the indexers and the tests."""
    return OpenSearch(**{**_client_options(settings or get_settings()), **overrides})


def async_client(settings: Settings | None = None, **overrides: Any) -> AsyncOpenSearch:
    """A non-blocking client for the API."""
    return AsyncOpenSearch(**{**_client_options(settings or get_settings()), **overrides})
