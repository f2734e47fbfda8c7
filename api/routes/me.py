"""GET /v1/me: who the caller is and what its role may do (the counter page signs in with it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.deps import Caller, current_caller

router = APIRouter(prefix="/v1", tags=["me"])


class Me(BaseModel):
    name: str
    role: str
    description: str
    endpoints: list[str]
    read: list[str]
    masked: dict[str, str]
    verify: list[str]
    shop: str | None


@router.get("/me", response_model=Me)
async def me(caller: Annotated[Caller, Depends(current_caller)]) -> Me:
    """The caller's name and role, the endpoints it may call, the fields it reads (masked ones named)
    and may only verify, and the agent's shop."""
    role = caller.role
    return Me(
        name=caller.name,
        role=caller.role_name,
        description=role.description,
        endpoints=list(role.endpoints),
        read=list(role.read),
        masked={field: mask for field, mask in role.masks.items()},
        verify=list(role.verify),
        shop=caller.shop,
    )
