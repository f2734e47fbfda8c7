"""The change feed pushed to webhook subscribers: `rcu webhooks run` (the delivery worker),
`rcu webhooks status` and `rcu webhooks resume NAME` (an admin's answer to a dead letter)."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from api.policy import Policy
from rcu.errors import UsageError
from search.client import sync_client
from search.indices import IndexNames
from settings import Settings, get_settings


def _policy(settings: Settings) -> Policy:
    if settings.policy is None:
        raise UsageError("webhook subscribers are declared in the access policy ([webhooks.<name>]): point RCU_POLICY at it")
    return Policy.load(settings.policy)


def run(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is ready, then stop (no waiting for retries).")] = False,
) -> None:
    """Push the change feed to every subscriber of the policy, signed, in order, retried with
    backoff; runs until stopped (Ctrl-C) unless --once. Run one worker per deployment."""
    import httpx

    from search.webhooks.delivery import DeliveryPolicy, deliver_all

    settings = get_settings()
    secrets = {name: secret.get_secret_value().encode() for name, secret in settings.webhook_secrets.items()}
    subscribers = _policy(settings).webhook_subscribers(secrets)
    if not subscribers:
        raise UsageError("the access policy declares no webhook subscriber ([webhooks.<name>])")
    delivery = DeliveryPolicy.from_settings(settings)
    names = IndexNames.for_settings(settings)
    with (
        contextlib.closing(sync_client(settings)) as client,
        httpx.Client(follow_redirects=False) as http,
        contextlib.suppress(KeyboardInterrupt),
    ):
        while True:
            delivered = deliver_all(client, names, http, subscribers, delivery)
            for name, count in delivered.items():
                if count:
                    typer.echo(f"{name}\tdelivered {count} changes")
            if once:
                return
            time.sleep(settings.webhook_poll_s)


def status() -> None:
    """Every subscriber: its cursor, deliveries, failures and dead letters."""
    from search.webhooks.state import webhook_states

    settings = get_settings()
    declared = _policy(settings).webhooks
    with contextlib.closing(sync_client(settings)) as client:
        states = {s["subscriber"]: s for s in webhook_states(client, IndexNames.for_settings(settings))}
    for name, webhook in sorted(declared.items()):
        state = states.get(name, {})
        flag = "PARKED" if state.get("parked") else ("retrying" if state.get("attempts") else "ok")
        typer.echo(
            f"{flag}\t{name}\t{webhook.url}\tcursor {state.get('cursor', 0)}\tdelivered {state.get('delivered', 0)}"
            f"\tattempts {state.get('attempts', 0)}\tlast error {state.get('last_error') or '-'}"
        )
        for letter in state.get("dead_letters", []):
            typer.echo(
                f"  dead letter\t{letter['delivery']}\tseqs {letter['from_seq']}-{letter['to_seq']}\t{letter['at']}"
                f"\t{letter['last_error']}\t{letter.get('resolved') or 'open'}"
            )


def resume(
    name: Annotated[str, typer.Argument(help="The subscriber parked on a dead letter.")],
    skip: Annotated[bool, typer.Option("--skip", help="Step over the dead batch instead of sending it again.")] = False,
) -> None:
    """Deliver again to a subscriber parked on a dead letter: the same batch first, or what follows it with --skip."""
    from search.webhooks.delivery import resume as resume_subscriber

    settings = get_settings()
    if name not in _policy(settings).webhooks:
        raise UsageError(f"no webhook subscriber {name} in the access policy")
    with contextlib.closing(sync_client(settings)) as client:
        state = resume_subscriber(client, IndexNames.for_settings(settings), name, skip, datetime.now(UTC))
    typer.echo(f"{name} resumed at cursor {state.cursor}" + (" (dead batch skipped)" if skip else ""))
