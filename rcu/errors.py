"""Every failure of a command turned into an exit code and a one-line message, in one place:
the packages raise their own exceptions, no command catches them.

Exit codes (README, "The ingestion contract"): 1 some records rejected, 2 usage error, 3 the
managed node could not be set up, 4 OpenSearch unreachable or failing, 5 no such customer
(`rcu subject`), 6 done but not all of it yet (`rcu subject erase --expunge`: the person erased, some of the
deleted documents still held on disk by retention leases)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import OpenSearchException
from typer.core import TyperGroup

from api.policy import PolicyRefused
from indexers.readers import ReaderError
from provisioning.errors import NodeSetupError
from search.audit_journal import AuditFailed
from search.indices import SchemaOutdated
from search.read_ahead import ScrollIncomplete
from search.resolve.errors import ModelCountsVanished, ModelMissing, SpoolOutOfMemory
from search.rights.erasure import DeletesStillHeld
from search.rights.overlay import CustomerNotFound
from search.rights.suppression import SuppressionKeyMissing
from search.segments.definitions import DefinitionsRefused
from search.segments.marketing import SegmentNotFound
from search.snapshots import SnapshotError
from search.webhooks.delivery import NotParked, WebhookSecretMissing
from settings import get_settings

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_SETUP_FAILED = 3
EXIT_NODE_DOWN = 4
EXIT_NOT_FOUND = 5
EXIT_INCOMPLETE = 6


class UsageError(Exception):
    """What the command was asked cannot be done (an unknown record, a missing file)."""


def _unreachable(error: Exception) -> str:
    return (
        f"OpenSearch at {get_settings().opensearch_url} does not answer ({type(error).__name__}): start it "
        "(`rcu opensearch start`) or point OPENSEARCH_URL at a running cluster, then run the same command again."
    )


def _failed(error: Exception) -> str:
    return f"OpenSearch at {get_settings().opensearch_url} failed and retries did not help: {error}"


def _file_error(error: Exception) -> str:
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or type(error).__name__}"
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class ExitRule:
    error: type[Exception]
    code: int
    message: Callable[[Exception], str] = str


# First match wins: the specific before the general.
EXIT_RULES = (
    ExitRule(UsageError, EXIT_USAGE),
    ExitRule(ReaderError, EXIT_USAGE),
    ExitRule(SchemaOutdated, EXIT_USAGE),
    ExitRule(ModelMissing, EXIT_USAGE),
    ExitRule(SpoolOutOfMemory, EXIT_USAGE),
    ExitRule(ModelCountsVanished, EXIT_NODE_DOWN),  # transient, like a node that did not answer: retry
    ExitRule(PolicyRefused, EXIT_USAGE),
    ExitRule(SnapshotError, EXIT_USAGE),
    ExitRule(SuppressionKeyMissing, EXIT_USAGE),
    ExitRule(DefinitionsRefused, EXIT_USAGE),
    ExitRule(SegmentNotFound, EXIT_NOT_FOUND, lambda error: f"no segment {error} in force"),
    ExitRule(WebhookSecretMissing, EXIT_USAGE),
    ExitRule(NotParked, EXIT_USAGE),
    ExitRule(CustomerNotFound, EXIT_NOT_FOUND, lambda error: f"no customer {error}"),
    ExitRule(DeletesStillHeld, EXIT_INCOMPLETE),
    ExitRule(NodeSetupError, EXIT_SETUP_FAILED),
    ExitRule(AuditFailed, EXIT_NODE_DOWN),  # the trail could not be written: nothing done unaudited, retry
    ExitRule(ScrollIncomplete, EXIT_NODE_DOWN),  # a shard did not answer a scroll: stopped before removing anything, retry
    ExitRule(OpenSearchConnectionError, EXIT_NODE_DOWN, _unreachable),  # ConnectionTimeout is one
    ExitRule(OpenSearchException, EXIT_NODE_DOWN, _failed),
    # A file named on the command line that cannot be read or written (a folder, a missing folder,
    # no permission): after the OpenSearch rules, whose connection errors are OSErrors underneath.
    ExitRule(OSError, EXIT_USAGE, _file_error),
)


def exit_rule(error: Exception) -> ExitRule | None:
    return next((rule for rule in EXIT_RULES if isinstance(error, rule.error)), None)


class ExitCodes(TyperGroup):
    """The command group running every rcu command: a failure in EXIT_RULES leaves as its exit
    code and message on stderr, never as a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's Context: its click is vendored in some versions, not in others
        try:
            return super().invoke(ctx)
        except Exception as error:
            rule = exit_rule(error)
            if rule is None:
                raise
            typer.echo(f"error: {rule.message(error)}", err=True)
            raise typer.Exit(rule.code) from None
