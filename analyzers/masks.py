"""Masking rules a role's policy may put on a field: the value shown instead of the real one."""

from __future__ import annotations

from collections.abc import Callable

from analyzers.phones import mask_phone


def mask_year(value: str) -> str:
    """A date reduced to its year: 1980-05-17 → 1980."""
    return value[:4]


def mask_email(value: str) -> str:
    """The first letter and the domain: jean.dupont@gmail.com → j•••@gmail.com."""
    local, _, domain = value.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def mask_all(value: str) -> str:
    return "•••"


MASKS: dict[str, Callable[[str], str]] = {"phone": mask_phone, "year": mask_year, "email": mask_email, "hidden": mask_all}
