"""Shared dependencies of the routes: settings, OpenSearch clients, index names, and the caller
(API key or bearer JWT) with the fields its role may read."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from opensearchpy import AsyncOpenSearch, OpenSearch

from api.guards import PERSONAL_PREFIX
from api.policy import SHOP_PATTERN, Policy, Role, bound_to_source
from indexers.push import RecordPusher
from search.access import FieldAccess
from search.actions.rules import RulesWatcher
from search.audit import AuditEntry, AuditWriter
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from settings import Settings

log = logging.getLogger("rcu.api")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key of the access policy.")
SHOP = re.compile(SHOP_PATTERN)
SHOP_DESCRIPTION = "The agent's shop (as in loyalty_<shop>) when neither its key nor its token names one: ranking only."
bearer = HTTPBearer(auto_error=False, description="An OAuth2 access token (JWT) whose role claim names a policy role.")


# Dependencies are coroutines although none of them waits: FastAPI runs a plain function in a
# worker thread, and the hand-offs cost more than the look-ups themselves.


async def settings(request: Request) -> Settings:
    return request.app.state.settings


async def opensearch(request: Request) -> AsyncOpenSearch:
    return request.app.state.opensearch


async def sync_opensearch(request: Request) -> OpenSearch:
    """A blocking client for work done in a thread (real-time resolution)."""
    return request.app.state.sync_opensearch


async def index_names(request: Request) -> IndexNames:
    return request.app.state.names


async def policy(request: Request) -> Policy:
    return request.app.state.policy


async def audit_writer(request: Request) -> AuditWriter:
    return request.app.state.audit


async def shipped_audit(request: Request) -> None:
    """For the routes that read the audit trail: every entry this process journaled is in the
    audit index first (503 if the index cannot take them)."""
    await request.app.state.audit_shipper.flush(request.app.state.settings.api_opensearch_timeout_s)


async def record_pusher(request: Request) -> RecordPusher:
    return request.app.state.pusher


async def rules_watcher(request: Request) -> RulesWatcher:
    """The next-best-action rules file, reloaded when it changes."""
    return request.app.state.rules


async def resolution_config(request: Request) -> ResolutionConfig:
    return request.app.state.pusher.resolver.config


OpenSearchDep = Annotated[AsyncOpenSearch, Depends(opensearch)]
SyncOpenSearchDep = Annotated[OpenSearch, Depends(sync_opensearch)]
NamesDep = Annotated[IndexNames, Depends(index_names)]
AuditDep = Annotated[AuditWriter, Depends(audit_writer)]
ShippedAuditDep = Annotated[None, Depends(shipped_audit)]
PusherDep = Annotated[RecordPusher, Depends(record_pusher)]
ResolutionConfigDep = Annotated[ResolutionConfig, Depends(resolution_config)]
SettingsDep = Annotated[Settings, Depends(settings)]
RulesDep = Annotated[RulesWatcher, Depends(rules_watcher)]
PolicyDep = Annotated[Policy, Depends(policy)]


@dataclass(frozen=True)
class Caller:
    name: str
    role_name: str
    role: Role
    access: FieldAccess
    # Source patterns a pushed record's source must match, every list of them (the key's or the
    # role's; a token's claim besides its role's).
    source_rules: tuple[tuple[str, ...], ...] = ()
    shop: str | None = None  # the agent's shop: its own customers rank first among namesakes

    def may_write(self, source: str) -> bool:
        return bound_to_source(self.source_rules, source)


MAX_SUBJECT_CHARS = 256


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": 'Bearer, ApiKey header="X-API-Key"'})


ApiKey = Annotated[str | None, Security(api_key_header)]
BearerToken = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
ShopHeader = Annotated[
    str | None,
    Header(
        alias="X-Shop",
        pattern=SHOP_PATTERN,
        description=SHOP_DESCRIPTION,
    ),
]


async def current_caller(request: Request, api_key: ApiKey = None, token: BearerToken = None, shop: ShopHeader = None) -> Caller:
    return identify(request, api_key, token, shop)


def identify(request: Request, api_key: str | None, token: HTTPAuthorizationCredentials | None, shop: str | None) -> Caller:
    """Who calls: an API key of the policy, or a bearer JWT when a JWT key is configured. The
    agent's shop is the key's, else the token's claim, else the X-Shop header."""
    access_policy: Policy = request.app.state.policy
    config: Settings = request.app.state.settings
    if api_key:
        key = access_policy.key_owner(api_key)
        if key is None:
            raise _unauthorized("Unknown API key.")
        role = access_policy.roles[key.role]
        sources = tuple(key.sources if key.sources is not None else role.sources)
        return Caller(key.name, key.role, role, request.app.state.access[key.role], (sources,), key.shop or shop)
    if token and config.jwt_secret:
        try:
            claims = jwt.decode(
                token.credentials,
                config.jwt_secret.get_secret_value(),
                algorithms=config.jwt_algorithms,
                audience=config.jwt_audience,
                options={"require": ["exp", "sub"], "verify_aud": config.jwt_audience is not None},
            )
        except jwt.PyJWTError as error:
            raise _unauthorized(f"Invalid bearer token: {error}.") from None
        subject = str(claims["sub"])
        if not 0 < len(subject) <= MAX_SUBJECT_CHARS or not subject.isprintable():
            # The subject is the caller every audit entry names: one the trail cannot keep (a
            # keyword past Lucene's term limit, a line break) would show customers untraced.
            raise _unauthorized(f"The token's 'sub' claim is not a printable name of 1 to {MAX_SUBJECT_CHARS} characters.")
        role_name = claims.get(config.jwt_role_claim)
        if not isinstance(role_name, str) or role_name not in access_policy.roles:
            raise _unauthorized(f"The token's {config.jwt_role_claim!r} claim names no role of the policy.")
        role = access_policy.roles[role_name]
        rules: tuple[tuple[str, ...], ...] = (tuple(role.sources),)
        if config.jwt_sources_claim in claims:
            claimed = claims[config.jwt_sources_claim]
            if not isinstance(claimed, list) or not all(isinstance(source, str) for source in claimed):
                raise _unauthorized(f"The token's {config.jwt_sources_claim!r} claim is not a list of source names.")
            rules += (tuple(claimed),)
        claimed_shop = claims.get(config.jwt_shop_claim)
        if claimed_shop is not None and not (isinstance(claimed_shop, str) and SHOP.match(claimed_shop)):
            raise _unauthorized(f"The token's {config.jwt_shop_claim!r} claim is not a shop name.")
        return Caller(subject, role_name, role, request.app.state.access[role_name], rules, claimed_shop or shop)
    raise _unauthorized("An API key (X-API-Key header) or a bearer token is required.")


# The audit's action for each endpoint (search.audit.AuditEntry.action).
ACTIONS = {"search": "search", "cards": "card", "customers": "customer", "records": "record", "audit": "audit", "events": "event"}


def asked(request: Request) -> str | None:
    """What a look-up asked for, as the audit keeps it: the query typed, else the path's card or id."""
    typed = request.query_params.get("q")
    if typed:
        return typed
    return " ".join(str(value) for value in request.path_params.values()) or None


def asked_key(payload: dict[str, object] | None, id_field: str) -> str | None:
    """The `source:<id>` a pushed body names (a record's source_id, an event's event_id), for the
    audit trail, when it names one."""
    if not payload or not isinstance(payload.get("source"), str) or not isinstance(payload.get(id_field), (str, int)):
        return None
    return f"{str(payload['source']).lower()}:{payload[id_field]}"[:512]


async def audit_refusal(request: Request, caller: Caller, action: str, query: str | None, outcome: str = "refused") -> None:
    """Writes that `caller` was refused `action` (or, outcome `error`, not understood); the refusal
    is answered even if the trail is down."""
    try:
        await request.app.state.audit.record(AuditEntry(caller.name, caller.role_name, action, [], query, outcome))
    except Exception as error:  # noqa: BLE001 - nothing is shown, so the 4xx still leaves
        log.warning("audit_unavailable action=%s outcome=%s error=%s", action, outcome, type(error).__name__)


LOOKUPS = ("search", "cards", "customers")


async def audit_not_understood(request: Request) -> None:
    """A look-up refused for its parameters (a query past 200 characters, a malformed id): audited
    as `error` like one the query parser did not understand, when the caller is known."""
    caller: Caller | None = getattr(request.state, "caller", None)
    endpoint: str | None = getattr(request.state, "endpoint", None)
    if caller is not None and endpoint in LOOKUPS and endpoint in caller.role.endpoints:
        await audit_refusal(request, caller, ACTIONS[endpoint], (asked(request) or "")[:512] or None, "error")


def allowed(endpoint: str) -> Callable[..., Awaitable[Caller]]:
    """The caller, if its role may use `endpoint` (403 otherwise, audited)."""

    # The caller is identified from the request's headers here rather than through Security and
    # Header sub-dependencies: FastAPI's dependency solving was 17% of the API's CPU per look-up,
    # and these three (each a cache key, four kinds of parameters, a validation) were over a quarter
    # of it, more than identifying the caller (bench/RESULTS.md, 2026-11-27, sessions 12 and 13).
    # The OpenAPI schema still documents the two schemes and the X-Shop header (documented_callers).
    async def check(request: Request) -> Caller:
        shop = shop_header(request)
        caller = identify(request, await api_key_header(request), await bearer(request), shop)
        # Kept for api.errors: a look-up whose parameters are refused (422) is audited as not understood.
        request.state.caller, request.state.endpoint = caller, endpoint
        if endpoint not in caller.role.endpoints:
            await audit_refusal(request, caller, ACTIONS.get(endpoint, endpoint), asked(request))
            raise HTTPException(status_code=403, detail=f"The role {caller.role_name!r} may not use {endpoint}.")
        return caller

    return check


def shop_header(request: Request) -> str | None:
    """The X-Shop header, None when absent; a value that is no shop name is refused as FastAPI
    refuses a malformed parameter (422, before the caller is identified)."""
    shop = request.headers.get("x-shop")
    if shop is not None and not SHOP.search(shop):
        problem = {"type": "string_pattern_mismatch", "loc": ("header", "X-Shop"), "input": shop}
        raise RequestValidationError([{**problem, "msg": f"String should match pattern '{SHOP_PATTERN}'"}])
    return shop


def documented_callers(app: FastAPI) -> None:
    """Writes into the app's OpenAPI schema what allowed()'s check reads without FastAPI declaring
    it: the API-key and bearer schemes, and the X-Shop header, on every operation of the /v1 API
    (each one identifies its caller: allowed() or current_caller)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schemes = {
            scheme.scheme_name: scheme.model.model_dump(mode="json", by_alias=True, exclude_none=True)
            for scheme in (api_key_header, bearer)
        }
        schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(schemes)
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(PERSONAL_PREFIX):
                continue
            for operation in operations.values():
                parameters = operation.setdefault("parameters", [])
                if not any(parameter["name"] == "X-Shop" for parameter in parameters):
                    parameters.append(SHOP_PARAMETER)
                operation["security"] = [{name: []} for name in schemes]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# The X-Shop header as FastAPI documents a Header parameter (ShopHeader).
SHOP_PARAMETER = {
    "name": "X-Shop",
    "in": "header",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string", "pattern": SHOP_PATTERN}, {"type": "null"}],
        "description": SHOP_DESCRIPTION,
        "title": "X-Shop",
    },
    "description": SHOP_DESCRIPTION,
}
