"""The HTTP API: `rcu serve`, and `rcu hash-key` for the access policy's keys."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from settings import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo_policy: Annotated[
        bool, typer.Option("--demo-policy", help="Serve the demo policy, whose keys are in the README (loopback only).")
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Needs an access policy (RCU_POLICY) or --demo-policy."""
    import uvicorn

    from api.app import create_app
    from api.policy import DEMO_ACTIONS, serving_policy

    settings = get_settings()
    if demo_policy and settings.actions is None:
        settings = settings.model_copy(update={"actions": DEMO_ACTIONS})
    application = create_app(settings, serving_policy(settings, demo_policy, host))
    # What start-up built lives as long as the process: out of the cyclic collector's full passes,
    # which otherwise stall a look-up now and then (bench/RESULTS.md: p99 ~100 → ~55 ms at 10 clients).
    gc.collect()
    gc.freeze()
    uvicorn.run(application, host=host, port=port, log_level="info")


def hash_key(key: Annotated[str, typer.Argument(help="An API key to put in an access policy.")]) -> None:
    """Print the SHA-256 an access policy stores for an API key."""
    from api.policy import hash_key as digest

    typer.echo(digest(key))
