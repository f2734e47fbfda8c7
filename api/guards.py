"""What every HTTP exchange goes through, whatever the route: a bounded request body, answers that
no cache keeps or browser reinterprets, and an access log without what callers typed."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PERSONAL_PREFIX = "/v1/"
# Paths that carry what a caller typed: a loyalty card number is a person's identifier (the
# suppression list hashes it), as personal as the query string.
_TYPED_IN_PATH = re.compile(r"(/v1/cards/)[^/?\s]+")


def loggable_path(path: str) -> str:
    """`path` as logs may keep it: the card number of /v1/cards/{card} replaced by `…`."""
    return _TYPED_IN_PATH.sub(r"\1…", path)


class BodyTooLarge(Exception):
    """A request body past the API's limit (settings.api_max_body_bytes): answered 413, unread."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


class BodyLimit:
    """Refuses a body announced larger than `max_bytes` before reading it, and stops reading one
    that grows past it (a body sent without Content-Length)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = dict(scope["headers"]).get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > self.max_bytes:
            await _plain_413(send, self.max_bytes)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, bounded, send)


async def _plain_413(send: Send, limit: int) -> None:
    body = f'{{"detail":"The request body is larger than {limit} bytes."}}'.encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *_SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every answer, and `Cache-Control: no-store` on every
    answer of the /v1 API (they carry personal data, errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        personal = scope["path"].startswith(PERSONAL_PREFIX)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-content-type-options"]
                if personal:
                    kept = [(k, v) for k, v in kept if k.lower() != b"cache-control"]
                    kept.append((b"cache-control", b"no-store"))
                kept.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": kept}
            await send(message)

        await self.app(scope, receive, with_headers)


LOOK_UP_PATH = "/v1/search"


class WithoutQueryString(logging.Filter):
    """Drops what callers typed from uvicorn's access log lines: `/v1/search?q=06…` is logged as
    `/v1/search`, `/v1/cards/2905…` as `/v1/cards/…` (what agents type is personal data); and
    drops the line of a look-up answered without an error: the audit trail records every look-up
    (who, when, what outcome), and writing its line too was a twentieth of the API's CPU per
    look-up (bench/RESULTS.md, session 17, s17-push). A refused or failed look-up keeps its line.
    Off when settings.access_log_queries."""

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            if path == LOOK_UP_PATH and len(args) >= 5 and isinstance(args[4], int) and args[4] < 400:
                return False
            record.args = (*args[:2], loggable_path(path), *args[3:])
        return True


def quiet_access_log(enabled: bool) -> None:
    """Installs (or removes) WithoutQueryString on uvicorn's access logger, once."""
    access = logging.getLogger("uvicorn.access")
    for installed in [f for f in access.filters if isinstance(f, WithoutQueryString)]:
        access.removeFilter(installed)
    if enabled:
        access.addFilter(WithoutQueryString())
