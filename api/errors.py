"""Every failure turned into a clear HTTP answer in one place: never a stack trace or an
OpenSearch error body to a client."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout, NotFoundError, TransportError

from api.deps import audit_not_understood
from api.guards import BodyTooLarge, loggable_path
from search.audit import AuditFailed
from search.events import EventConflict, EventRejected, EventSuppressed
from search.query_parser import QueryNotUnderstood
from search.resolve.errors import ModelCountsVanished, ModelMissing
from search.rights.overlay import CustomerNotFound
from search.rights.suppression import SuppressionKeyMissing
from search.segments.marketing import SegmentNotFound
from search.steward.decisions import DecisionNotFound, InvalidDecision, ItemChanged
from search.webhooks.delivery import NotParked

log = logging.getLogger("rcu.api")
RETRY_AFTER_S = "5"
NO_CUSTOMERS_YET = "No customers yet: ingest records (`rcu ingest`) and resolve them (`rcu resolve`) first."


def _readable(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"] if part not in ("query", "path", "body")) or "request"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def unavailable(detail: str = "The search engine is unavailable; try again shortly.") -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": RETRY_AFTER_S})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        await audit_not_understood(request)
        return JSONResponse(status_code=422, content={"detail": _readable(error)})

    @app.exception_handler(QueryNotUnderstood)
    async def query_not_understood(request: Request, error: QueryNotUnderstood) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": f"q: {error}"})

    @app.exception_handler(AuditFailed)
    async def audit_failed(request: Request, error: AuditFailed) -> JSONResponse:
        return unavailable("The audit trail is unavailable, so nothing is shown; try again shortly.")

    @app.exception_handler(EventRejected)
    async def event_rejected(request: Request, error: EventRejected) -> JSONResponse:
        # A conflict under a stored id, or an erased person's event: 409; an event no single customer holds: 422.
        status = 409 if isinstance(error, (EventConflict, EventSuppressed)) else 422
        return JSONResponse(status_code=status, content={"detail": f"event refused: {error.reason}"})

    @app.exception_handler(CustomerNotFound)
    async def customer_not_found(request: Request, error: CustomerNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": f"No customer {error}."})

    @app.exception_handler(SegmentNotFound)
    async def segment_not_found(request: Request, error: SegmentNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": f"No segment {error} in force."})

    @app.exception_handler(NotParked)
    async def not_parked(request: Request, error: NotParked) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": f"Nothing to resume: {error}."})

    @app.exception_handler(ItemChanged)
    async def item_changed(request: Request, error: ItemChanged) -> JSONResponse:
        # The page shows `message` to the steward as it is: in French.
        return JSONResponse(status_code=409, content={"detail": str(error), "message": error.message_fr})

    @app.exception_handler(InvalidDecision)
    async def invalid_decision(request: Request, error: InvalidDecision) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(error)})

    @app.exception_handler(DecisionNotFound)
    async def decision_not_found(request: Request, error: DecisionNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": f"No decision {error}."})

    @app.exception_handler(SuppressionKeyMissing)
    async def suppression_key_missing(request: Request, error: SuppressionKeyMissing) -> JSONResponse:
        log.error("suppression_key_missing path=%s", loggable_path(request.url.path))
        return unavailable(f"Not configured: {error}.")

    @app.exception_handler(ModelMissing)
    @app.exception_handler(ModelCountsVanished)
    async def model_missing(request: Request, error: Exception) -> JSONResponse:
        return unavailable(f"Resolution is not ready: {error}.")

    @app.exception_handler(OpenSearchConnectionError)
    @app.exception_handler(ConnectionTimeout)
    async def opensearch_down(request: Request, error: Exception) -> JSONResponse:
        log.warning("opensearch_unavailable path=%s error=%s", loggable_path(request.url.path), type(error).__name__)
        return unavailable()

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        return JSONResponse(status_code=413, content={"detail": str(error)})

    @app.exception_handler(NotFoundError)
    async def index_missing(request: Request, error: NotFoundError) -> JSONResponse:
        if error.error == "index_not_found_exception":
            # Before the first `rcu resolve` there is no customers index: not a failure, a fresh install.
            return unavailable(NO_CUSTOMERS_YET)
        return await opensearch_error(request, error)

    @app.exception_handler(TransportError)
    async def opensearch_error(request: Request, error: TransportError) -> JSONResponse:
        if error.status_code in (429, 502, 503, 504) or error.status_code == "N/A":
            return unavailable()
        reference = uuid.uuid4().hex[:12]
        log.error(
            "opensearch_error reference=%s path=%s status=%s error=%s",
            reference,
            loggable_path(request.url.path),
            error.status_code,
            error.error,
        )
        return JSONResponse(status_code=500, content={"detail": f"Internal error (reference {reference})."})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.exception("unexpected_error reference=%s path=%s", reference, loggable_path(request.url.path))
        return JSONResponse(status_code=500, content={"detail": f"Internal error (reference {reference})."})
