"""Segments and next best actions: `rcu segments` stores the definitions and recomputes every
customer, `rcu segments counts` / `export`, `rcu actions load` a rules file, `rcu report actions`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Literal

import typer

from rcu.errors import UsageError
from search.client import bulk_client
from search.indices import IndexNames
from settings import get_settings

FileOption = Annotated[Path | None, typer.Option("--file", help="The definitions file (default: RCU_SEGMENTS).")]


DefinitionsOnly = Annotated[
    bool,
    typer.Option(
        "--definitions-only",
        help="Only re-evaluate the stored profiles against the definitions (after a definition change): no figure is read again.",
    ),
]


Full = Annotated[
    bool,
    typer.Option(
        "--full",
        help="The profiles time made stale computed again and every segment's members counted (segments are searched when asked, "
        "never stored): what every run after an earlier one does. No current profile is computed again.",
    ),
]


FULL_NOTICE = (
    "note: --full is now what every run does (memberships searched over the stored profiles) and computes no profile again; "
    "to rebuild every profile from its events and records, pass --rebuild-profiles"
)


RebuildProfiles = Annotated[
    bool,
    typer.Option(
        "--rebuild-profiles",
        help="Compute every customer's profile again from its events and records (a repair, after they changed behind rcu's "
        "back): ≈ 20 min at 1M customers on 2 cores.",
    ),
]


def recompute(
    file: FileOption = None, definitions_only: DefinitionsOnly = False, full: Full = False, rebuild_profiles: RebuildProfiles = False
) -> None:
    """Store the segment definitions (refused with the line of a mistake; those in force stay) and
    bring every customer's profile and segments up to date. A definition change needs no profile
    computed again: the conditions are searched over the stored profiles (`--full` is the default run)."""
    from search.segments.conditions import definitions_in_force, store_definitions
    from search.segments.daily import bring_up_to_date, reevaluate_all
    from search.segments.definitions import load_segments
    from search.segments.store import recompute_all

    if full and not rebuild_profiles:
        # Scripts written when --full recomputed every profile would otherwise stop repairing silently.
        typer.echo(FULL_NOTICE, err=True)
    settings = get_settings()
    path = file or settings.segments
    if path is None:
        raise UsageError("no segments file: set RCU_SEGMENTS or pass --file (api/demo_segments.toml documents the format)")
    definitions = load_segments(path)
    names = IndexNames.for_settings(settings)
    with contextlib.closing(bulk_client(settings)) as client:
        before = definitions_in_force(client, names, "segment")
        generation = store_definitions(client, names, "segment", definitions, path)
        typer.echo(f"segments in force: {len(definitions)} (generation {generation})")
        if definitions_only:
            report = reevaluate_all(client, names, before=before)
        else:
            # `full` is the default run: memberships are searched over every profile when asked.
            report = recompute_all(client, settings, names) if rebuild_profiles else bring_up_to_date(client, settings, names)
    typer.echo(report.line())


def counts() -> None:
    """Customers per segment that marketing may use, and how many by each channel."""
    from search.segments.marketing import segment_counts

    settings = get_settings()
    with contextlib.closing(bulk_client(settings)) as client:
        rows = segment_counts(client, IndexNames.for_settings(settings))
    for row in rows:
        reachable = " ".join(f"{channel}={count}" for channel, count in row["reachable"].items())
        typer.echo(f"{row['name']}\t{row['customers']}\t{reachable}\t{row['label']}")


def export(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    channel: Annotated[
        str | None, typer.Option(help="Only customers who consented to marketing by this channel: email, sms, phone or post.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the ids to this file (default: standard output).")] = None,
) -> None:
    """A segment's pseudonymous customer ids, one a line: those marketing may use."""
    from search.rights.consents import CHANNEL_PURPOSES
    from search.segments.marketing import export_all

    if channel is not None and channel not in CHANNEL_PURPOSES:
        raise UsageError(f"--channel is one of {', '.join(CHANNEL_PURPOSES)}")
    settings = get_settings()
    with contextlib.closing(bulk_client(settings)) as client:
        ids = export_all(client, IndexNames.for_settings(settings), name, channel)
        if out is None:
            for customer_id in ids:
                typer.echo(customer_id)
            return
        with out.open("w", encoding="utf-8") as stream:
            written = sum(stream.write(f"{customer_id}\n") > 0 for customer_id in ids)
    typer.echo(f"{written} customer ids written to {out}")


def load_actions(file: Annotated[Path | None, typer.Option("--file", help="The rules file (default: RCU_ACTIONS).")] = None) -> None:
    """Check and store a next-best-action rules file (the API also reloads it when it changes)."""
    from search.actions.rules import load_rules_file

    settings = get_settings()
    path = file or settings.actions
    if path is None:
        raise UsageError("no rules file: set RCU_ACTIONS or pass --file (api/demo_actions.toml documents the format)")
    with contextlib.closing(bulk_client(settings)) as client:
        generation = load_rules_file(client, IndexNames.for_settings(settings), path)
    typer.echo(f"rules in force: generation {generation}")


def report_actions(
    by: Annotated[Literal["action", "shop", "month"], typer.Option(help="Group by action, shop or month.")] = "action",
) -> None:
    """Acceptance rates of the next best actions: accepted out of the proposals answered."""
    from search.actions.outcomes import acceptance_rates

    settings = get_settings()
    with contextlib.closing(bulk_client(settings)) as client:
        rows = acceptance_rates(client, IndexNames.for_settings(settings), by)
    typer.echo(f"{by}\tproposed\taccepted\trefused\tacceptance")
    for row in rows:
        rate = "—" if row["acceptance_rate"] is None else f"{row['acceptance_rate']:.0%}"
        typer.echo(f"{row[by]}\t{row['proposed']}\t{row['accepted']}\t{row['refused']}\t{rate}")


def segments_main(
    ctx: typer.Context,
    file: FileOption = None,
    definitions_only: DefinitionsOnly = False,
    full: Full = False,
    rebuild_profiles: RebuildProfiles = False,
) -> None:
    """Without a subcommand: store the definitions and bring every customer's segments up to date."""
    if ctx.invoked_subcommand is None:
        recompute(file, definitions_only, full, rebuild_profiles)
