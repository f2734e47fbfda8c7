"""Errors of the managed local node: a message saying what went wrong and a hint saying what to do."""

from __future__ import annotations


class NodeSetupError(Exception):
    """The managed node could not be assembled, started or stopped."""

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        parts = [self.message]
        if self.hint:
            parts.append(f"What to do: {self.hint}")
        if self.details:
            parts.append(self.details)
        return "\n".join(parts)
