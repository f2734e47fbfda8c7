"""The ingest report: rejected records and field warnings, one JSON line each, and the run's counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import orjson

OUTCOMES = ("indexed", "unchanged", "stale", "deleted", "rejected")


@dataclass
class IngestSummary:
    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    records_with_warnings: int = 0
    ties: int = 0  # stale records that met an indexed copy with the same updated_at and other content

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    @property
    def rejected(self) -> int:
        return self.outcomes["rejected"]

    def as_dict(self) -> dict[str, int]:
        return {"read": self.read, **{name: self.outcomes[name] for name in OUTCOMES}, "warnings": self.warnings, "ties": self.ties}

    def line(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.as_dict().items())


class RejectsReport:
    """Writes `{"kind": "rejected"|"warning"|"tie", "file", "line", "raw"?, "reason", "field"?}` lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[bytes] | None = None

    def __enter__(self) -> RejectsReport:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = self.path.open("wb")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._stream:
            self._stream.close()

    def _write(self, entry: dict[str, object]) -> None:
        assert self._stream is not None, "use RejectsReport as a context manager"
        self._stream.write(orjson.dumps(entry) + b"\n")

    def rejected(self, file: str, line: int, raw: str, reason: str) -> None:
        self._write({"kind": "rejected", "file": file, "line": line, "raw": raw, "reason": reason})

    def tie(self, file: str, line: int, record_id: str, reason: str) -> None:
        self._write({"kind": "tie", "file": file, "line": line, "record_id": record_id, "reason": reason})

    def warning(self, file: str, line: int, field_name: str, raw: str, reason: str, record_id: str) -> None:
        self._write(
            {"kind": "warning", "file": file, "line": line, "record_id": record_id, "field": field_name, "raw": raw, "reason": reason}
        )
