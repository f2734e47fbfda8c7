"""GET /v1/changes: the change feed, for integrators — each role sees the changes of the sources it
is bound to (`sources` in the policy), so every source system can write golden ids back, follow
merges and splits, and apply erasures and opt-outs (GDPR art. 19)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AuditDep, Caller, NamesDep, SettingsDep, SyncOpenSearchDep, allowed
from search.audit import AuditEntry
from search.changes import read_changes

router = APIRouter(prefix="/v1", tags=["changes"])
MAX_CURSOR = 2**63 - 2  # sequence numbers are OpenSearch longs


class ChangesResponse(BaseModel):
    changes: list[dict[str, Any]] = Field(
        description="In order: seq, at, kind (created, updated, merged, split, consent_changed, removed, erased), customer_id, "
        "old_id/new_id for merges and splits, fields (golden fields, or consent purposes), sources, records (source:source_id of your sources; "
        "for `erased`, the records to delete or unlink, during the erasure notice period), erased_ids (for `erased`: every golden id erased)."
    )
    cursor: int = Field(description="Pass it as `since` next time: every change after it comes once, in order, even after a restart.")
    more: bool = Field(description="More changes are waiting: ask again at once.")


@router.get("/changes", response_model=ChangesResponse)
async def changes(
    client: SyncOpenSearchDep,
    names: NamesDep,
    settings: SettingsDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("changes"))],
    since: Annotated[int, Query(ge=0, le=MAX_CURSOR, description="The cursor of the last page read (0: from the beginning).")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Response:
    """What happened to customers after `since`, oldest first."""
    # The sources the caller is bound to: those it may write are those whose changes it follows.
    page = await run_in_threadpool(
        read_changes, client, names, since, limit, caller.may_write, settings.changes_gap_timeout_s, settings.erasure_notice_days
    )
    # Who read the feed, from where: the page names customers (by id only), so its reading is audited
    # like every view — by position, not by customer (a page holds up to 5,000 of them).
    outcome = "found" if page.changes else "nothing"
    await audit.record(AuditEntry(caller.name, caller.role_name, "changes", [], f"since={since}", outcome))
    # Serialized once, as the node's documents were read: ChangesResponse documents the answer (and
    # tests/rights/test_changes checks answers against it); validating up to 5,000 changes into the
    # model, dumping them back and encoding them was about 4% of the API's samples at pages of 5,000
    # (py-spy, bench/RESULTS.md session 17) — the source patterns, matched once per source now
    # (search.changes.read_changes), were 46%.
    return Response(orjson.dumps({"changes": page.changes, "cursor": page.cursor, "more": page.more}), media_type="application/json")
