"""`rcu review stats`: how far to trust the automatic matcher, from the data stewards' decisions."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from search.client import sync_client
from search.indices import IndexNames
from settings import get_settings


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON (what GET /v1/review/stats answers).")] = False,
) -> None:
    """The matcher's precision and recall estimated from the decisions, per source pair."""
    from search.steward.stats import stats_from_decisions

    settings = get_settings()
    client = sync_client(settings)
    try:
        found = stats_from_decisions(client, IndexNames.for_settings(settings))
    finally:
        client.close()
    if as_json:
        typer.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"decisions={found.decisions} (record pairs a steward judged; precision and recall where the matcher hesitated)")
    typer.echo(f"{'source pair':<40} {'precision':>9} {'recall':>7} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5}")
    rows = [("all", found.overall), *sorted(found.by_source_pair.items())]
    for name, counts in rows:
        typer.echo(
            f"{name:<40} {_share(counts.precision):>9} {_share(counts.recall):>7} {counts.true_positives:>5} "
            f"{counts.false_positives:>5} {counts.false_negatives:>5} {counts.true_negatives:>5}"
        )
