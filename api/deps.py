"""Shared dependencies of the routes: settings and the OpenSearch client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from opensearchpy import AsyncOpenSearch

from rcu.settings import Settings, get_settings


def opensearch(request: Request) -> AsyncOpenSearch:
    return request.app.state.opensearch


SettingsDep = Annotated[Settings, Depends(get_settings)]
OpenSearchDep = Annotated[AsyncOpenSearch, Depends(opensearch)]
