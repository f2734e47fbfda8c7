"""Reading source files line by line, in bounded memory: JSON Lines, and CSV with a mapping file.

Each reader yields one `SourceLine` per record, with the raw text kept for the rejects report; a
line that cannot be read becomes a SourceLine with an `error`, and reading goes on.
"""

from __future__ import annotations

import codecs
import csv
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexers.contract import MAX_RECORD_BYTES, RecordRejected, SourceRecord, parse_record

TRUE_WORDS = {"1", "true", "yes", "y", "oui", "o", "vrai"}
FALSE_WORDS = {"0", "false", "no", "n", "non", "faux", ""}
RECORD_FIELDS = set(SourceRecord.model_fields)


class ReaderError(Exception):
    """A file cannot be read at all (missing mapping, unreadable mapping, unknown format)."""


@dataclass
class SourceLine:
    file: str
    line: int
    raw: str
    payload: dict[str, Any] | None = None
    error: str | None = None
    birth_date_format: str | None = None


class CsvMapping(BaseModel):
    """How a CSV export maps onto the contract (README, "CSV sources")."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(default=None, description="Source name for every row, unless a column maps to `source`.")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    date_format: str | None = Field(default=None, description="strptime format of birth_date, e.g. %d/%m/%Y.")
    contract: Literal["records", "events"] = Field(default="records", description="What the rows are: source records or events.")
    columns: dict[str, str] = Field(description="CSV column → contract field; other columns become attributes.")

    @classmethod
    def load(cls, path: Path) -> CsvMapping:
        try:
            return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
            raise ReaderError(f"cannot use CSV mapping {path}: {error}") from None


def _physical_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a file ended by LF, CR LF or a lone CR (an export from an old Mac tool), as
    Python's universal newlines read them: a raw carriage return is never inside a JSON string."""
    for line in stream:
        yield from line.rstrip(b"\r\n").split(b"\r")


def read_jsonl(path: Path) -> Iterator[SourceLine]:
    """One SourceLine per non-blank line of a JSON Lines file (a UTF-8 byte-order mark is skipped)."""
    name = str(path)
    with path.open("rb") as stream:
        for number, raw in enumerate(_physical_lines(stream), start=1):
            text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
            if not text.strip():
                continue
            try:
                payload = parse_record(raw)
            except RecordRejected as rejected:
                yield SourceLine(name, number, text[:MAX_RECORD_BYTES], error=rejected.reason)
                continue
            yield SourceLine(name, number, text, payload=payload)


def _row_payload(row: dict[str, str | None], mapping: CsvMapping) -> dict[str, Any]:
    payload: dict[str, Any] = {"source": mapping.source} if mapping.source else {}
    for column, value in row.items():
        target = mapping.columns.get(column, column)
        if value is None or value == "":
            continue
        if target == "deleted":
            lowered = value.strip().lower()
            payload[target] = True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else value
        else:
            payload[target] = value
    return payload


def _reading_codec(encoding: str) -> str:
    """UTF-8 read as "utf-8-sig": a byte-order mark is the encoding's mark, not the first column's name."""
    try:
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError:
        raise ReaderError(f"unknown encoding {encoding!r} in the CSV mapping") from None


def _undecodable(encoding: str) -> str:
    """Why a row's bytes were refused, with the likely fix: French exports are often Latin-1."""
    hint = ' (a Latin-1 export? say encoding = "latin-1" in the mapping)' if codecs.lookup(encoding).name == "utf-8" else ""
    return f"bytes that are not valid {encoding}{hint}"


def read_csv(path: Path, mapping: CsvMapping) -> Iterator[SourceLine]:
    """One SourceLine per CSV row; the header names the columns the mapping refers to."""
    name = str(path)
    with path.open(encoding=_reading_codec(mapping.encoding), errors="surrogateescape", newline="") as stream:
        reader = csv.reader(stream, delimiter=mapping.delimiter)
        header = next(reader, None)
        if header is None:
            return
        unknown = [column for column in mapping.columns if column not in header]
        if unknown:
            read_as = ", ".join(repr(column) for column in header[:5]) + (", …" if len(header) > 5 else "")
            raise ReaderError(
                f"{path}: mapped columns missing from the header: {', '.join(unknown)} "
                f"(the header read with delimiter {mapping.delimiter!r} has the columns {read_as}: is `delimiter` right?)"
            )
        line_start = reader.line_num + 1
        for values in reader:
            raw = mapping.delimiter.join(values)
            number, line_start = line_start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue
            if any("\udc80" <= ch <= "\udcff" for ch in raw):
                shown = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
                yield SourceLine(name, number, shown, error=_undecodable(mapping.encoding))
                continue
            if len(values) != len(header):
                yield SourceLine(name, number, raw, error=f"{len(values)} columns where the header has {len(header)}")
                continue
            payload = _row_payload(dict(zip(header, values, strict=True)), mapping)
            yield SourceLine(name, number, raw, payload=payload, birth_date_format=mapping.date_format)


def mapping_for(csv_path: Path, explicit: Path | None) -> CsvMapping:
    """The mapping named on the command line, else `<file>.mapping.toml` beside the CSV."""
    candidate = explicit or csv_path.with_suffix(".mapping.toml")
    if not candidate.is_file():
        raise ReaderError(f"{csv_path}: no CSV mapping (looked for {candidate}; pass --mapping FILE)")
    return CsvMapping.load(candidate)


REJECTS_NAME = "rejects"
EVENT_SUFFIXES = (".events.jsonl", ".events.ndjson", ".events.csv")


def is_event_file(path: Path, mapping: CsvMapping | None = None) -> bool:
    """An events file (README, "The event contract"): named `*.events.jsonl` (or `.ndjson`,
    `.csv`), a CSV whose mapping says `contract = "events"`, or JSON Lines whose first line holds
    an `event_id`."""
    if path.name.lower().endswith(EVENT_SUFFIXES):
        return True
    if mapping is not None:
        return mapping.contract == "events"
    with path.open("rb") as stream:
        for line in _physical_lines(stream):
            if line.strip():
                try:
                    first = parse_record(line)
                except RecordRejected:
                    return False
                return "event_id" in first
    return False


def is_rejects_file(path: Path) -> bool:
    """A rejects report by its name: `rejects.jsonl`, or `rejects-<when>.jsonl` as rcu names them."""
    name = path.name.lower()
    return name == f"{REJECTS_NAME}.jsonl" or (name.startswith(f"{REJECTS_NAME}-") and name.endswith(".jsonl"))


def _identity(path: Path) -> tuple[int, int] | str:
    """The same file under any name: device and inode when it exists, else its resolved path."""
    try:
        status = os.stat(path)
    except OSError:
        return str(path.resolve())
    return (status.st_dev, status.st_ino)


@dataclass
class SourceFiles:
    """The files one ingest run reads, in a stable order, with their CSV mappings resolved up front."""

    jsonl: list[Path] = field(default_factory=list)
    csv: list[tuple[Path, CsvMapping]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    own: list[Path] = field(default_factory=list)  # files rcu wrote (rejects reports): never read back
    events_jsonl: list[Path] = field(default_factory=list)
    events_csv: list[tuple[Path, CsvMapping]] = field(default_factory=list)

    @classmethod
    def discover(cls, paths: list[Path], mapping: Path | None = None, written: tuple[Path, ...] = ()) -> SourceFiles:
        """The source files under `paths`. Files rcu writes are skipped: by name (rejects reports,
        `is_rejects_file`) and by identity (`written`, e.g. this run's own rejects file, even
        under another name), so an ingest never reads what it is writing."""
        files = cls()
        written_ids = {_identity(path) for path in written}
        for path in paths:
            if not path.exists():
                raise ReaderError(f"{path}: no such file or folder")
            candidates = (
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(".mapping.toml")) if path.is_dir() else [path]
            )
            for candidate in candidates:
                if is_rejects_file(candidate) or _identity(candidate) in written_ids:
                    files.own.append(candidate)
                    continue
                suffix = candidate.suffix.lower()
                if suffix in {".jsonl", ".ndjson"}:
                    (files.events_jsonl if is_event_file(candidate) else files.jsonl).append(candidate)
                elif suffix == ".csv":
                    found = mapping_for(candidate, mapping)
                    (files.events_csv if is_event_file(candidate, found) else files.csv).append((candidate, found))
                elif path.is_dir():
                    files.skipped.append(candidate)
                else:
                    raise ReaderError(f"{candidate}: not a source file (.jsonl, .ndjson or .csv)")
        return files

    def lines(self) -> Iterator[SourceLine]:
        for path in self.jsonl:
            yield from read_jsonl(path)
        for path, mapping in self.csv:
            yield from read_csv(path, mapping)

    def event_lines(self) -> Iterator[SourceLine]:
        for path in self.events_jsonl:
            yield from read_jsonl(path)
        for path, mapping in self.events_csv:
            yield from read_csv(path, mapping)

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.jsonl) + sum(p.stat().st_size for p, _ in self.csv)
