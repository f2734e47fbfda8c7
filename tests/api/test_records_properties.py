"""POST /v1/records driven by the same generator as the ingest property (tests/contract_strategies):
whatever the body, the answer is a 2xx or a 4xx with a reason — never a 5xx, never a reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract_strategies import edge_records, line_bytes, raw_lines

RoleClient = Callable[[str], Any]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(raw_lines, edge_records.map(line_bytes)), role=st.sampled_from(["steward", "integrator"]))
def test_any_pushed_body_is_answered_2xx_or_4xx_with_a_reason(as_role: RoleClient, body: bytes, role: str) -> None:
    response = as_role(role).post("/v1/records", content=body, headers={"Content-Type": "application/json"})
    assert 200 <= response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert response.json()["detail"]
