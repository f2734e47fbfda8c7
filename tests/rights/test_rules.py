"""Pure rules of the customer's rights, no node: which consent statement decides, and how a key's
distinct customers per hour are counted."""

from __future__ import annotations

from search.access import MARKETING_CHANNELS
from search.misuse import WINDOW_S, DistinctReads
from search.rights.consents import customer_consent_fields


def _statement(purpose: str, status: str, at: str, origin: str = "crm") -> dict[str, str]:
    return {"purpose": purpose, "status": status, "at": at, "origin": origin}


def test_a_refusal_and_a_grant_at_the_same_instant_leave_the_customer_refusing() -> None:
    fields = customer_consent_fields(
        [
            _statement("marketing_email", "granted", "2026-01-01T00:00:00+00:00", "crm"),
            _statement("marketing_email", "refused", "2026-01-01T00:00:00+00:00", "ecommerce"),
        ]
    )
    assert fields["consents"]["marketing_email"]["status"] == "refused" and fields["consents_refused"] == ["marketing_email"]


def test_a_lifted_restriction_gives_marketing_back_only_the_granted_channels() -> None:
    statements = [
        _statement("restriction", "requested", "2025-01-01T00:00:00+00:00"),
        _statement("marketing_sms", "granted", "2024-01-01T00:00:00+00:00"),
        _statement("restriction", "lifted", "2026-01-01T00:00:00+00:00", "api"),
    ]
    customer = customer_consent_fields(statements)
    assert customer["restricted"] is False
    assert MARKETING_CHANNELS["sms"].usable(customer) and not MARKETING_CHANNELS["email"].usable(customer)
    assert not MARKETING_CHANNELS["sms"].usable(customer_consent_fields(statements[:2]))  # while restricted, nothing


def test_a_customer_read_again_counts_once_and_an_hour_later_not_at_all() -> None:
    reads = DistinctReads()
    assert reads.add(["C1", "C2"], now=0.0) == 2
    assert reads.add(["C1"], now=10.0) == 2
    assert reads.add(["C3"], now=WINDOW_S + 5.0) == 2  # C2 (seen at 0) left the window; C1 (seen at 10) is still in
