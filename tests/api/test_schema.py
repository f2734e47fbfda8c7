"""Schemathesis against the OpenAPI schema, served by uvicorn on the real node: whatever the
generated input, no 5xx and every response matches the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.policy import DEMO_KEYS


@pytest.fixture(scope="module")
def web_schema(served: str):
    return schemathesis.openapi.from_url(f"{served}/openapi.json")


def test_no_input_makes_the_api_fail_or_break_its_schema(web_schema) -> None:
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/v1/search",
        "/v1/cards/{card_number}",
        "/v1/customers/{customer_id}",
        "/v1/records",
        "/v1/audit",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate(headers={"X-API-Key": DEMO_KEYS["admin"]}, checks=[not_a_server_error, response_schema_conformance])

        check()
