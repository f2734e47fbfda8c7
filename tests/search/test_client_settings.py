"""What the OpenSearch client is given from the settings: pure, no node needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from search.client import _client_options
from settings import Settings


def test_the_client_gets_every_node_ca_client_certificate_and_credentials() -> None:
    settings = Settings(
        opensearch_url="https://127.0.0.1:9221,https://127.0.0.1:9222",
        opensearch_user="rcu",
        opensearch_password="s3cret-pass",
        opensearch_ca_certs=Path("/etc/rcu/ca.pem"),
        opensearch_client_cert=Path("/etc/rcu/rcu.pem"),
        opensearch_client_key=Path("/etc/rcu/rcu-key.pem"),
    )
    options = _client_options(settings)
    assert options["hosts"] == ["https://127.0.0.1:9221", "https://127.0.0.1:9222"]
    assert options["http_auth"] == ("rcu", "s3cret-pass")
    assert (options["ca_certs"], options["client_cert"], options["client_key"]) == (
        "/etc/rcu/ca.pem",
        "/etc/rcu/rcu.pem",
        "/etc/rcu/rcu-key.pem",
    )


def test_the_opensearch_password_never_shows_in_the_settings_text() -> None:
    settings = Settings(opensearch_user="rcu", opensearch_password="s3cret-pass")
    assert "s3cret-pass" not in repr(settings) and "s3cret-pass" not in str(settings.model_dump())


def test_an_opensearch_url_set_to_nothing_means_the_default_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSEARCH_URL", "")
    monkeypatch.setenv("RCU_INDEX_PREFIX", "")
    settings = Settings()
    assert settings.opensearch_urls == ["http://127.0.0.1:9200"] and settings.opensearch_port == 9200
    assert settings.index_prefix == Settings.model_fields["index_prefix"].default


def test_an_opensearch_url_naming_no_url_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="OPENSEARCH_URL names no URL"):
        Settings(opensearch_url=" , ")
