"""Consent per purpose: statements from source records and from the API, the most recent one per
purpose winning, and what a customer document carries so that every query can obey it.

A statement is `{"purpose", "status", "at", "origin"}`. Purposes are marketing by channel, profiling
and sharing with partners (`granted` / `refused`), and `restriction` (art. 18: `requested` /
`lifted`), which takes the customer out of every marketing route while the counter still sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from search.access import CHANNEL_PURPOSES

PURPOSES = (*CHANNEL_PURPOSES.values(), "profiling", "partner_sharing", "restriction")
Purpose = Literal["marketing_email", "marketing_sms", "marketing_phone", "marketing_post", "profiling", "partner_sharing", "restriction"]
Status = Literal["granted", "refused", "requested", "lifted"]
RESTRICTION_STATUSES = ("requested", "lifted")
CONSENT_STATUSES = ("granted", "refused")
# On equal instants the more protective statement wins.
_PROTECTIVE = {"refused": 1, "requested": 1, "granted": 0, "lifted": 0}


class InvalidStatement(ValueError):
    """A consent statement with an unknown purpose, or a status that purpose does not take."""


def check_status(purpose: str, status: str) -> None:
    if purpose not in PURPOSES:
        raise InvalidStatement(f"unknown purpose {purpose!r} (one of {', '.join(PURPOSES)})")
    allowed = RESTRICTION_STATUSES if purpose == "restriction" else CONSENT_STATUSES
    if status not in allowed:
        raise InvalidStatement(f"{purpose} takes {' or '.join(allowed)}, not {status!r}")


def statement_instant(at: datetime, latest: datetime) -> datetime:
    """When a statement was made, in UTC (naive instants are UTC), no later than `latest` (now plus
    the allowed margin, RCU_FUTURE_MARGIN_S): the most recent statement wins, so one dated in 2999
    would outvote every later one — a consent the customer could never withdraw, a refusal they
    could never lift. InvalidStatement otherwise, naming `at`."""
    try:
        moment = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    except OverflowError:  # year 1 at +01:00, year 9999 at -01:00
        raise InvalidStatement("at: out of the range of dates") from None
    if moment > latest:
        margin_h = (latest - datetime.now(UTC)).total_seconds() / 3600
        raise InvalidStatement(
            f"at: in the future (more than {max(margin_h, 0):.0f} h ahead): a statement is dated when the customer made it"
        )
    return moment


def _order(statement: dict[str, Any]) -> tuple[str, int]:
    return statement["at"], _PROTECTIVE.get(statement["status"], 0)


def history(statements: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every statement once, newest first."""
    unique = {(s["purpose"], s["status"], s["at"], s.get("origin")): s for s in statements}
    return sorted(unique.values(), key=_order, reverse=True)


def effective(statements: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """purpose → the statement that decides it: the most recent, across every source."""
    decided: dict[str, dict[str, Any]] = {}
    for statement in statements:
        current = decided.get(statement["purpose"])
        if current is None or _order(statement) > _order(current):
            decided[statement["purpose"]] = statement
    return decided


def customer_consent_fields(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """What a customer document carries: the deciding statement per purpose, the history, and the
    flat lists every query filters on (`restricted`, `consents_granted`, `consents_refused`)."""
    if not statements:
        return {}
    decided = effective(statements)
    restriction = decided.pop("restriction", None)
    return {
        "consents": {purpose: {k: v for k, v in s.items() if k != "purpose"} for purpose, s in sorted(decided.items())},
        "consent_history": history(statements),
        "restricted": bool(restriction and restriction["status"] == "requested"),
        "consents_granted": sorted(p for p, s in decided.items() if s["status"] == "granted"),
        "consents_refused": sorted(p for p, s in decided.items() if s["status"] == "refused"),
    }
