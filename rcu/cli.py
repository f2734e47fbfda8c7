"""The `rcu` command line: parses arguments, calls the packages, prints. Every command is listed
here; what each does is in rcu/commands/, and every failure becomes an exit code in rcu/errors.py."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from rcu.commands import api, demo, node, records, resolution, review, rights, snapshots
from rcu.errors import EXIT_NODE_DOWN, EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_SETUP_FAILED, EXIT_USAGE, ExitCodes

__all__ = ["EXIT_NODE_DOWN", "EXIT_NOT_FOUND", "EXIT_REJECTED", "EXIT_SETUP_FAILED", "EXIT_USAGE", "app"]

app = typer.Typer(cls=ExitCodes, no_args_is_help=True, help="rcu — Référentiel Client Unique.")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every step.")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    # opensearch-py logs every refused connection with a traceback; a node that is down is reported plainly.
    logging.getLogger("opensearch").setLevel(logging.ERROR)


app.command("ingest")(records.ingest)
app.command("reindex")(records.reindex)
app.command("resolve")(resolution.resolve)
app.command("explain")(resolution.explain)
app.command("xref")(resolution.xref)
app.command("demo-data")(demo.demo_data)
app.command("demo")(demo.demo)
app.command("serve")(api.serve)
app.command("hash-key")(api.hash_key)

opensearch_app = typer.Typer(no_args_is_help=True, help="The managed local node.")
opensearch_app.command("start")(node.start)
opensearch_app.command("stop")(node.stop)
opensearch_app.command("status")(node.status)
app.add_typer(opensearch_app, name="opensearch")

snapshot_app = typer.Typer(no_args_is_help=True, help="Backups of rcu's indices in the filesystem snapshot repository.")
snapshot_app.command("create")(snapshots.create)
snapshot_app.command("list")(snapshots.list_all)
snapshot_app.command("restore")(snapshots.restore)
app.add_typer(snapshot_app, name="snapshot")
app.command("retention")(rights.retention)
subject_app = typer.Typer(no_args_is_help=True, help="One customer's rights: access and portability, erasure.")
subject_app.command("export")(rights.export)
subject_app.command("erase")(rights.erase)
app.add_typer(subject_app, name="subject")
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail.")
audit_app.command("report")(rights.audit_report)
app.add_typer(audit_app, name="audit")
review_app = typer.Typer(no_args_is_help=True, help="The data steward's decisions.")
review_app.command("stats")(review.stats)
app.add_typer(review_app, name="review")
