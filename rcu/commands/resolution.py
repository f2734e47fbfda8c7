"""Golden customers: `rcu resolve`, `rcu explain` a pair of records, `rcu xref` the whole cross-reference."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Annotated

import typer

from rcu.errors import UsageError
from search.client import bulk_client, sync_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from settings import get_settings


def resolution_config() -> ResolutionConfig:
    return ResolutionConfig.load(get_settings().resolution_config)


def resolve(
    full: Annotated[bool, typer.Option("--full", help="Resolve every record and retrain the model (the first run always does).")] = False,
) -> None:
    """Group records into golden customers: incrementally (records ingested since the last run), or all."""
    from search.resolve.pipeline import resolve_all, resolve_since_last_run
    from search.resolve.store import owed_erasures
    from search.segments.conditions import active_generation
    from search.segments.store import recompute_all, refresh_segments_of

    settings = get_settings()
    client = bulk_client(settings)
    names = IndexNames.for_settings(settings)
    try:
        if full:
            report = resolve_all(client, names, resolution_config(), spool=settings.resolve_spool_dir)
        else:
            if settings.suppression_key_bytes is None and (owed := owed_erasures(client, names)):
                typer.echo(
                    f"warning: the match model still counts the values of {owed} erased people and RCU_SUPPRESSION_KEY "
                    "is not set: set it (or run `rcu resolve --full`) before linking on them",
                    err=True,
                )
            report = resolve_since_last_run(client, names, resolution_config())
        typer.echo(report.line())
        # The segments of the customers resolution wrote follow (search.segments), once any are defined.
        if active_generation(client, names, "segment") is not None:
            if full:
                typer.echo(f"segments: {recompute_all(client, settings, names).line()}")
            else:
                refresh_segments_of(client, settings, names, sorted(set(report.customer_ids.values()) | set(report.removed_ids)))
    finally:
        client.close()
    for key, size in sorted(report.frequent_keys.items(), key=lambda item: -item[1])[:10]:
        typer.echo(f"too common to link on: {key} ({size} records)")
    for rule, reason in report.relaxed_rules.items():
        typer.echo(f"never-merge rule left to the weights for this data: {rule} — {reason}")
    for attribute, reason in report.detected_identifiers.items():
        typer.echo(f"attribute {attribute} used as an identifier: {reason}")
    for parameter, reason in report.defaults_used.items():
        typer.echo(f"default used for {parameter}: {reason}")
    for level, correction in report.u_corrections.items():
        typer.echo(f"u corrected for {level}: {correction}")
    if report.weak_link_bar is not None:
        typer.echo(f"links resting on names alone join their one customer from {report.weak_link_bar:.4f} (estimated from this data)")


def explain(
    first: Annotated[str, typer.Argument(help="A record id, source:source_id.")],
    second: Annotated[str, typer.Argument(help="Another record id.")],
) -> None:
    """Why two records are, or are not, the same customer: field by field."""
    from search.resolve.explain import explain_pair
    from search.resolve.features import features_from_document
    from search.resolve.store import get_records, read_model

    settings = get_settings()
    config = resolution_config()
    client = sync_client(settings)
    names = IndexNames.for_settings(settings)
    try:
        documents = {d["record_id"]: d for d in get_records(client, names, [first, second])}
        model = read_model(client, names)
    finally:
        client.close()
    missing = [r for r in (first, second) if r not in documents]
    if missing:
        raise UsageError(f"no live record {', '.join(missing)}")
    extra = model.identifiers
    result = explain_pair(features_from_document(documents[first], extra), features_from_document(documents[second], extra), model, config)
    typer.echo(f"{first}  vs  {second}")
    for evidence in result.fields:
        typer.echo(f"  {evidence.field:<14} {evidence.level:<26} {evidence.weight_bits:+7.2f} bits")
    typer.echo(f"  {'prior':<14} {'':<26} {result.prior_bits:+7.2f} bits")
    typer.echo(f"match weight {result.match_weight_bits:+.2f} bits, probability {result.probability:.4f} (threshold {result.threshold})")
    if result.different_people:
        typer.echo(f"never linked: {result.different_people}")
    typer.echo(f"decision: {result.decision}; deciding fields: {', '.join(result.deciding_fields) or 'none'}")


# A spreadsheet runs a cell starting with one of these as a formula (`=HYPERLINK(…)`, `@SUM(…)`,
# `-2+3+cmd|…`): a source id is any visible text a source system sent.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """`cell`, with an apostrophe before it when a spreadsheet would run it as a formula (a plain
    number such as "-42" or "+33612345678" stays as it is: a spreadsheet reads it as a number)."""
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def xref(out: Annotated[Path, typer.Option(help="CSV file to write: source,source_id,customer_id.")] = Path("xref.csv")) -> None:
    """Write the cross-reference of every resolved record to its customer. A source id a spreadsheet
    would run as a formula is written after an apostrophe (README, `rcu xref`)."""
    from search.resolve.store import scan_customers

    settings = get_settings()
    client = sync_client(settings)
    rows = 0
    try:
        with out.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["source", "source_id", "customer_id"])
            for customer in scan_customers(client, IndexNames.for_settings(settings)):
                for record_id in customer["records"]:
                    source, _, source_id = record_id.partition(":")
                    writer.writerow([source, spreadsheet_safe(source_id), customer["customer_id"]])
                    rows += 1
    finally:
        client.close()
    typer.echo(f"{rows} records → {out}")
