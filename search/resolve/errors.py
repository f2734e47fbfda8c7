"""Failures of resolution that callers turn into exit codes and HTTP answers."""

from __future__ import annotations


class ModelMissing(Exception):
    """Incremental resolution needs the model a full run trains: run `rcu resolve --full` first."""
