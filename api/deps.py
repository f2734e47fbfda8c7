"""Shared dependencies of the routes: settings, OpenSearch clients, index names, and the caller
(API key or bearer JWT) with the fields its role may read."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Header, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from opensearchpy import AsyncOpenSearch, OpenSearch

from api.policy import SHOP_PATTERN, Policy, Role
from indexers.push import RecordPusher
from search.access import FieldAccess
from search.audit import AuditWriter
from search.indices import IndexNames
from settings import Settings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key of the access policy.")
SHOP = re.compile(SHOP_PATTERN)
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


async def record_pusher(request: Request) -> RecordPusher:
    return request.app.state.pusher


OpenSearchDep = Annotated[AsyncOpenSearch, Depends(opensearch)]
SyncOpenSearchDep = Annotated[OpenSearch, Depends(sync_opensearch)]
NamesDep = Annotated[IndexNames, Depends(index_names)]
AuditDep = Annotated[AuditWriter, Depends(audit_writer)]
PusherDep = Annotated[RecordPusher, Depends(record_pusher)]


@dataclass(frozen=True)
class Caller:
    name: str
    role_name: str
    role: Role
    access: FieldAccess
    shop: str | None = None  # the agent's shop: its own customers rank first among namesakes


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": 'Bearer, ApiKey header="X-API-Key"'})


async def current_caller(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    shop: Annotated[
        str | None,
        Header(
            alias="X-Shop",
            pattern=SHOP_PATTERN,
            description="The agent's shop (as in loyalty_<shop>) when neither its key nor its token names one: ranking only.",
        ),
    ] = None,
) -> Caller:
    """Who calls: an API key of the policy, or a bearer JWT when a JWT key is configured. The
    agent's shop is the key's, else the token's claim, else the X-Shop header."""
    access_policy: Policy = request.app.state.policy
    config: Settings = request.app.state.settings
    if api_key:
        key = access_policy.key_owner(api_key)
        if key is None:
            raise _unauthorized("Unknown API key.")
        role = access_policy.roles[key.role]
        return Caller(key.name, key.role, role, request.app.state.access[key.role], key.shop or shop)
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
        role_name = claims.get(config.jwt_role_claim)
        if role_name not in access_policy.roles:
            raise _unauthorized(f"The token's {config.jwt_role_claim!r} claim names no role of the policy.")
        claimed_shop = claims.get(config.jwt_shop_claim)
        if claimed_shop is not None and not (isinstance(claimed_shop, str) and SHOP.match(claimed_shop)):
            raise _unauthorized(f"The token's {config.jwt_shop_claim!r} claim is not a shop name.")
        role = access_policy.roles[role_name]
        return Caller(str(claims["sub"]), role_name, role, request.app.state.access[role_name], claimed_shop or shop)
    raise _unauthorized("An API key (X-API-Key header) or a bearer token is required.")


def allowed(endpoint: str) -> Callable[..., Awaitable[Caller]]:
    """The caller, if its role may use `endpoint` (403 otherwise)."""

    async def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if endpoint not in caller.role.endpoints:
            raise HTTPException(status_code=403, detail=f"The role {caller.role_name!r} may not use {endpoint}.")
        return caller

    return check
