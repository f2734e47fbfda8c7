"""Hypothesis strategies for source records as integrators really send them: any JSON value in any
field, deep nesting, long and non-ASCII strings, dates of every shape and range, ids where names
are expected. Shared by the ingest property test and the POST /v1/records one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from indexers.contract import KNOWN_TEXT_FIELDS

ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))])
SOURCES = st.sampled_from(["crm", "ecommerce", "loyalty_paris11", "CRM", "legacy.v2", "call-center"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=8
)


def _nested(levels: int) -> Any:
    value: Any = "fond"
    for _ in range(levels):
        value = {"n": value} if levels % 2 else [value]
    return value


instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES).map(lambda d: d.isoformat())
edge_dates = st.sampled_from(
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z", "1900-01-01", "2999-01-01", "", " ", "demain"]
)
date_shapes = st.one_of(
    edge_dates,
    instants,
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1)).map(lambda d: d.isoformat() + "Z"),
)
ids = st.one_of(
    st.text(min_size=1, max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(alphabet="€é漢𝄞", min_size=100, max_size=260),
    st.text(max_size=300),
)
any_value = st.one_of(json_values, date_shapes, ids, st.text(min_size=900, max_size=1100), st.integers(1, 300).map(_nested))

plausible_text = st.one_of(st.text(max_size=60), st.text(alphabet="abcdéèà -'", max_size=30))
plausible_records = st.fixed_dictionaries(
    {"source": SOURCES, "source_id": st.one_of(st.text(min_size=1, max_size=20), st.integers(0, 10**9))},
    optional={
        "updated_at": date_shapes,
        "deleted": st.booleans(),
        "note": json_values,
        **{name: st.one_of(plausible_text, plausible_text, plausible_text, any_value) for name in KNOWN_TEXT_FIELDS},
    },
)
hostile_records = st.fixed_dictionaries(
    {"source": st.one_of(SOURCES, any_value)},
    optional={
        "source_id": st.one_of(ids, any_value),
        "updated_at": st.one_of(date_shapes, any_value),
        "deleted": st.one_of(st.booleans(), any_value),
        "note": any_value,
        **{name: any_value for name in KNOWN_TEXT_FIELDS},
    },
)
records = st.one_of(plausible_records, plausible_records, hostile_records)
edge_records = st.one_of(
    st.builds(lambda record, at: {**record, "updated_at": at}, plausible_records, edge_dates),
    st.builds(lambda record, levels: {**record, "note": _nested(levels)}, plausible_records, st.integers(200, 400)),
    st.builds(lambda record, size: {**record, "source_id": "€" * size}, plausible_records, st.integers(160, 260)),
)
"""A plausible record with one value at an edge of the contract (dates out of range, deep nesting, long ids)."""
"""Records as dicts; `line_bytes` writes them as a JSON Lines line."""

raw_lines = st.one_of(
    edge_records.map(lambda record: line_bytes(record)),
    records.map(lambda record: line_bytes(record)),
    records.map(lambda record: line_bytes(record)),
    records.map(lambda record: line_bytes(record)),
    st.binary(max_size=80),
    st.sampled_from([b"[1, 2]", b"{", b'"text"', b"\xef\xbb\xbf{}", b'{"source": "crm", "source_id": "x", "note": NaN}']),
)


def line_bytes(record: dict[str, Any]) -> bytes:
    """The record as one line of JSON (deep values written by the standard library, which nests further than orjson)."""
    return json.dumps(record, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
