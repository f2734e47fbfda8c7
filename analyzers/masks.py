"""Masking rules a role's policy may put on a field: the value shown instead of the real one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

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


# The names an access policy gives the masks (api/demo_policy.toml).
MaskName = Literal["phone", "year", "email", "hidden"]
MASKS: dict[MaskName, Callable[[str], str]] = {"phone": mask_phone, "year": mask_year, "email": mask_email, "hidden": mask_all}
