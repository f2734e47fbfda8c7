"""What a webhook receiver relies on without a node: a signature checks only the exact body, with
the sender's secret, at about the time it was signed; a subscriber is declared with a role that
reads the change feed and a secret of its own."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from api.policy import DEMO_POLICY, Policy
from search.webhooks.delivery import DeliveryPolicy, WebhookSecretMissing
from search.webhooks.signing import signature, verify

SECRET = b"s3cret"
BODY = b'{"changes": [{"seq": 1, "kind": "erased", "customer_id": "C1"}]}'


def test_a_receiver_accepts_the_body_as_signed_and_nothing_else() -> None:
    header = signature(SECRET, 1_800_000_000, BODY)
    assert header.startswith("t=1800000000,v1=")
    assert verify(SECRET, header, BODY, now=1_800_000_010)
    assert not verify(SECRET, header, BODY.replace(b"erased", b"created"), now=1_800_000_010)
    assert not verify(b"another", header, BODY, now=1_800_000_010)
    # The timestamp is signed: a captured delivery replayed later, or with its time changed, is refused.
    assert not verify(SECRET, header, BODY, now=1_800_000_000 + 301)
    assert not verify(SECRET, header.replace("t=1800000000", "t=1800000500"), BODY, now=1_800_000_500)
    assert not verify(SECRET, "garbage", BODY, now=1_800_000_000)


def test_a_failing_batch_waits_twice_as_long_each_time_up_to_a_ceiling() -> None:
    policy = DeliveryPolicy(backoff_s=2.0, backoff_max_s=60.0)
    assert [policy.backoff(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def _policy(webhooks: str) -> Policy:
    return Policy.model_validate(tomllib.loads(DEMO_POLICY.read_text(encoding="utf-8") + webhooks))


def test_a_webhook_follows_the_sources_of_its_role_or_its_own() -> None:
    policy = _policy(
        '[webhooks.shops]\nurl = "https://shops.example/rcu"\nrole = "shop"\n'
        '[webhooks.site]\nurl = "https://site.example/rcu"\nrole = "integrator"\nsources = ["ecommerce"]\n'
    )
    shops, site = sorted(policy.webhook_subscribers({"shops": b"a", "site": b"b"}), key=lambda s: s.name)
    assert shops.bound("loyalty_paris11") and not shops.bound("crm")
    assert site.bound("ecommerce") and not site.bound("loyalty_paris11")
    with pytest.raises(WebhookSecretMissing, match="site"):
        policy.webhook_subscribers({"shops": b"a"})


def test_a_webhook_must_name_a_role_that_reads_the_change_feed() -> None:
    with pytest.raises(ValidationError, match="may read the change feed"):
        _policy('[webhooks.counter]\nurl = "https://x.example/"\nrole = "counter"\n')
    with pytest.raises(ValidationError):
        _policy('[webhooks.bad]\nurl = "ftp://x.example/"\nrole = "integrator"\n')
