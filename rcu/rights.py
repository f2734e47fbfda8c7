"""`rcu subject export|erase`, `rcu retention` and `rcu audit report`: the customer's rights from the
command line (an operator's actions, written to the audit trail as `cli:<user>`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from search.client import sync_client
from search.indices import IndexNames
from settings import get_settings

subject_app = typer.Typer(no_args_is_help=True, help="One customer's rights: access and portability, erasure.")

EXIT_NOT_FOUND = 5


@subject_app.command("export")
def export(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    html: Annotated[bool, typer.Option("--html", help="A readable French document instead of JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="File to write (standard output by default).")] = None,
) -> None:
    """Everything held about one customer (GDPR art. 15 and 20), as JSON or a French document."""
    from search.rights.export import subject_export
    from search.rights.export_html import export_html
    from search.rights.overlay import CustomerNotFound
    from search.rights.trail import record_operator_action

    settings = get_settings()
    client = sync_client(settings)
    names = IndexNames(settings.index_prefix)
    try:
        document = subject_export(client, names, customer_id)
        record_operator_action(client, names, "export", [customer_id])
    except CustomerNotFound:
        typer.echo(f"error: no customer {customer_id}", err=True)
        raise typer.Exit(EXIT_NOT_FOUND) from None
    finally:
        client.close()
    text = export_html(document) if html else json.dumps(document, ensure_ascii=False, indent=2)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{customer_id} → {out}")
    else:
        typer.echo(text)


@subject_app.command("erase")
def erase(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    expunge: Annotated[bool, typer.Option("--expunge", help="Then merge away deleted documents in every index (slow on large indices).")] = False,
) -> None:
    """Erase one customer from every index (GDPR art. 17); its identifiers go to the suppression list."""
    from rcu.cli import EXIT_USAGE, _resolution_config
    from search.rights.erasure import erase_customer, expunge_deletes
    from search.rights.overlay import CustomerNotFound
    from search.rights.suppression import SuppressionKeyMissing
    from search.rights.trail import operator, record_operator_action

    settings = get_settings()
    client = sync_client(settings)
    names = IndexNames(settings.index_prefix)
    try:
        report = erase_customer(client, names, _resolution_config(), customer_id, settings.suppression_key_bytes, operator())
        record_operator_action(client, names, "erasure", [report.pseudonym])
        if expunge:
            expunge_deletes(client, names)
    except CustomerNotFound:
        typer.echo(f"error: no customer {customer_id}", err=True)
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except SuppressionKeyMissing as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        client.close()
    typer.echo(
        f"erased {customer_id}: records={report.records} identifiers_suppressed={report.identifiers_suppressed} "
        f"audit_entries_pseudonymized={report.audit_entries_pseudonymized} former_ids={len(report.former_ids)}"
        + (" expunged" if expunge else "")
    )
