"""The look-up every agent keystroke sends (GET /v1/search), answered without Starlette's routing
and FastAPI's parameter and dependency solving: the same answer and audit entry as the route
(api.routes.search.search_answer does both), for less of the API's CPU (issue 21: ≤ 1 ms per
look-up; the routing, solving and validation were about a third of it, bench/RESULTS.md session 15).

It answers only what it can answer exactly as the route would: a GET whose query string holds `q`
(2 to 200 characters) and at most `limit` (1 to 50, plain digits), from a caller identified as
the route identifies it (api.deps.identify) whose role may search. Any other request — a missing
or malformed parameter, an unknown key or token, a malformed X-Shop, a role refused the look-up —
goes to the app unchanged, which answers its 4xx and audits it as it always has: nothing is
written before the fast path knows it answers. A failure after that point is answered by the app's
own exception handlers (api.errors), an unexpected one by its catch-all outside this middleware."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import api_key_header, bearer, identify, shop_header
from api.routes.search import MAX_LIMIT, MIN_QUERY_LENGTH, search_answer
from search.query_parser import MAX_QUERY_LENGTH

PATH = "/v1/search"
DEFAULT_LIMIT = 10


def plain_look_up(query_string: bytes) -> tuple[str, int] | None:
    """`q` and `limit` from a look-up's query string when the route would accept them as they are
    (read as Starlette reads a query string), None for anything else: a parameter missing,
    repeated, unknown or out of bounds is the route's to refuse."""
    asked: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name not in ("q", "limit") or name in asked:
            return None
        asked[name] = value
    q = asked.get("q")
    if q is None or not MIN_QUERY_LENGTH <= len(q) <= MAX_QUERY_LENGTH:
        return None
    typed_limit = asked.get("limit")
    if typed_limit is None:
        return q, DEFAULT_LIMIT
    if not (typed_limit.isascii() and typed_limit.isdigit() and len(typed_limit) <= 3):
        return None
    limit = int(typed_limit)
    return (q, limit) if 1 <= limit <= MAX_LIMIT else None


class LookupFastPath:
    """ASGI middleware answering plain look-ups itself (see the module docstring); innermost of the
    app's own middlewares, so the body limit and the security headers still wrap its answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        asked = plain_look_up(scope["query_string"])
        if asked is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            caller = identify(request, await api_key_header(request), await bearer(request), shop_header(request))
        except (HTTPException, RequestValidationError):
            await self.app(scope, receive, send)
            return
        if "search" not in caller.role.endpoints:
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        try:
            body = await search_answer(application.state, caller, *asked)
        except Exception as error:
            handler = _handler_of(application.exception_handlers, error)
            if handler is None:
                raise  # the app's catch-all (api.errors' `unexpected`) answers, outside this middleware
            response = await handler(request, error)
            await response(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _handler_of(handlers: dict[Any, Any], error: Exception) -> Any:
    """The app's handler for `error`'s class or its nearest parent, as Starlette looks it up; none
    for the catch-all on Exception (Starlette runs it outside every middleware)."""
    for cls in type(error).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None
