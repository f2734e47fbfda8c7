"""Segments for marketing: customers per segment, and a segment's pseudonymous customer ids —
never a direct identifier; customers who asked for restriction or refused the consent the use
needs are left out (search.segments.marketing)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AuditDep, Caller, NamesDep, SyncOpenSearchDep, allowed
from search.audit import AuditEntry
from search.segments.definitions import NAME_PATTERN
from search.segments.marketing import export_page, segment_counts

router = APIRouter(prefix="/v1", tags=["segments"])
SegmentName = Annotated[str, Path(pattern=NAME_PATTERN)]
ChannelName = Literal["email", "sms", "phone", "post"]


class SegmentCount(BaseModel):
    name: str
    label: str = Field(description="In French.")
    consent: str | None = Field(default=None, description="The consent the segment's use needs granted, if any.")
    customers: int = Field(
        description="Customers marketing may use: no restriction, profiling not refused, the segment's consent allowing it."
    )
    reachable: dict[str, int] = Field(
        description="Of those, how many each channel may reach (search.access.MARKETING_CHANNELS: e-mail and SMS granted, calls granted, post not refused; SMS and calls need neither refused)."
    )


class SegmentsResponse(BaseModel):
    segments: list[SegmentCount]


class SegmentExport(BaseModel):
    segment: str
    channel: str | None
    customer_ids: list[str] = Field(description="Pseudonymous rcu customer ids, in id order.")
    next: str | None = Field(description="Pass as `after` for the next page; null at the end.")


@router.get("/segments", response_model=SegmentsResponse)
async def segments(
    client: SyncOpenSearchDep, names: NamesDep, audit: AuditDep, caller: Annotated[Caller, Depends(allowed("segments"))]
) -> SegmentsResponse:
    """Every segment in force with the number of customers marketing may use in it."""
    counts = await run_in_threadpool(segment_counts, client, names)
    await audit.record(AuditEntry(caller.name, caller.role_name, "segments", [], None))
    return SegmentsResponse(segments=[SegmentCount(**count) for count in counts])


@router.get("/segments/{name}/customers", response_model=SegmentExport)
async def segment_export(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("segments"))],
    name: SegmentName,
    channel: Annotated[
        ChannelName | None, Query(description="Only customers this channel may reach (its contact point visible to marketing).")
    ] = None,
    after: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> SegmentExport:
    """One page of a segment's pseudonymous customer ids (404 for a segment not in force)."""
    ids, following = await run_in_threadpool(export_page, client, names, name, channel, after, limit)
    # The export is audited by segment, not by customer: ids carry no identifier and are not "seen".
    await audit.record(AuditEntry(caller.name, caller.role_name, "segment_export", [], f"{name} {channel or ''}".strip()))
    return SegmentExport(segment=name, channel=channel, customer_ids=ids, next=following)
