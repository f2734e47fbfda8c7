"""The cost of one Python HTTP hop, for `bench.search`: a bare ASGI app under uvicorn (as `rcu
serve` runs) that sends the API's request body for `?q=` to OpenSearch with the API's client and
returns the response as it came — no framework, no caller, no audit, no masks, no highlights.

What separates the API from the OpenSearch floor is this hop plus rcu's own work; the hop alone
says how close to the floor any Python API on the same cores can come."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

from api.policy import DEMO_POLICY, Policy
from search.client import async_client
from search.customer_query import plan_lookup
from search.lookup import fallback_needed, search_body
from search.query_parser import parse_query
from settings import get_settings

ACCESS = Policy.load(DEMO_POLICY).roles["counter"].field_access()
INDEX = f"{get_settings().index_prefix}-customers"
_client: Any = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _client
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        if _client is not None:
            await _client.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if _client is None:
        _client = async_client(get_settings(), maxsize=32)
    text = parse_qs(scope["query_string"].decode()).get("q", [""])[0]
    plan = plan_lookup(parse_query(text), ACCESS)
    assert plan.query is not None, "the counter agent searches by name"
    response = await _client.search(index=INDEX, body=search_body(plan.query, ACCESS, 10))
    if fallback_needed(plan, response["hits"]["hits"]):
        assert plan.fallback is not None
        response = await _client.search(index=INDEX, body=search_body(plan.fallback, ACCESS, 10))
    body = orjson.dumps(response)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
