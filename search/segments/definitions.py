"""Segment and next-best-action definition files: TOML read with the line of every mistake.

A condition is an OpenSearch query over the customer's profile (search.segments.profiles): either
a string in Lucene's query syntax (`"visits_12m:>=6"`, `"products_count:1 AND NOT restricted:true"`),
read by OpenSearch's own `query_string` parser, or a table in OpenSearch's query DSL
(`{ range = { days_since_seen = { gte = 183 } } }`). rcu parses neither: OpenSearch does, when the
definitions are stored as percolator queries (search.segments.conditions), and refuses an unknown
field or a malformed query there — the refusal is reported with the definition's line here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NAME_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"
Condition = str | dict[str, Any]
MAX_DEFINITIONS = 1000
# The counter is the customer in front of the agent: no marketing consent is asked there. Every
# other channel is usable only while marketing may see its contact point (search.access.MARKETING_CHANNELS).
Channel = Literal["counter", "email", "sms", "phone", "post"]
ConsentPurpose = Literal["marketing_email", "marketing_sms", "marketing_phone", "marketing_post", "profiling", "partner_sharing"]


class DefinitionsRefused(ValueError):
    """A definition file that cannot be used: the line and the reason. The definitions in force stay."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {reason}")


class SegmentDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    label: str = Field(min_length=1, max_length=200, description="What agents and marketing read, in French.")
    condition: Condition
    consent: ConsentPurpose | None = Field(
        default=None, description="The consent purpose an export of this segment needs (marketing_email…); none: any marketing use."
    )
    line: int = 0


class ActionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    label: str = Field(min_length=1, max_length=200, description="The action as the agent reads it, in French.")
    reason: str = Field(min_length=1, max_length=300, description="Why it is proposed, in French, shown beside it.")
    condition: Condition
    product: str | None = Field(default=None, description="The product or offer proposed: never proposed to a customer holding it.")
    priority: int = Field(default=0, ge=0, le=1000, description="Higher first.")
    channels: list[Channel] = Field(default_factory=lambda: list[Channel](["counter"]), min_length=1)
    cooldown_days: int = Field(default=30, ge=0, le=3650, description="Not proposed again for this long after a refusal.")
    line: int = 0


def query_of(condition: Condition) -> dict[str, Any]:
    """The OpenSearch query a condition stands for (a string is Lucene query syntax, all terms required)."""
    if isinstance(condition, str):
        return {"query_string": {"query": condition, "default_operator": "AND"}}
    return condition


def _header_lines(text: str, table: str) -> dict[str, int]:
    """name → line of its `[table.name]` header (1-based), to point at a definition."""
    pattern = re.compile(rf"^\s*\[\s*{table}\s*\.\s*\"?([A-Za-z0-9_]+)\"?\s*\]")
    return {m.group(1): number for number, line in enumerate(text.splitlines(), 1) if (m := pattern.match(line))}


def _toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise DefinitionsRefused(path, int(match.group(1)) if match else None, f"not valid TOML: {error}") from None


Definition = TypeVar("Definition", SegmentDefinition, ActionRule)


def _load(path: Path, table: str, model: Callable[..., Definition]) -> list[Definition]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionsRefused(path, None, f"cannot be read ({type(error).__name__})") from None
    document = _toml(path, text)
    lines = _header_lines(text, table)
    unknown = sorted(set(document) - {table})
    if unknown:
        raise DefinitionsRefused(path, None, f"unknown table {unknown[0]!r} (only [{table}.<name>] tables)")
    entries = document.get(table, {})
    if not entries:
        raise DefinitionsRefused(path, None, f"no [{table}.<name>] table")
    if len(entries) > MAX_DEFINITIONS:
        raise DefinitionsRefused(path, None, f"{len(entries)} definitions: at most {MAX_DEFINITIONS} in one file")
    definitions = []
    for name, body in entries.items():
        line = lines.get(name)
        if not isinstance(body, dict):
            raise DefinitionsRefused(path, line, f"{table}.{name} is not a table")
        try:
            definitions.append(model(name=name, line=line or 0, **body))
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise DefinitionsRefused(path, line, f"{table}.{name}: {where}: {problem['msg']}") from None
    return definitions


def load_segments(path: Path) -> list[SegmentDefinition]:
    """The `[segments.<name>]` tables of a segments file; DefinitionsRefused with the line otherwise."""
    return _load(path, "segments", SegmentDefinition)


def load_rules(path: Path) -> list[ActionRule]:
    """The `[actions.<name>]` tables of a next-best-action rules file; DefinitionsRefused with the line otherwise."""
    return _load(path, "actions", ActionRule)
