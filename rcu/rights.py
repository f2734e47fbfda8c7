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
