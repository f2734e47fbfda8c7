"""Next best actions: what to propose to a customer and why, the outcome an agent records
(proposed, accepted, refused with a reason), acceptance rates for marketing, the rules in force."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AuditDep, Caller, NamesDep, RulesDep, SettingsDep, SyncOpenSearchDep, allowed
from api.routes.customers import CustomerId
from search.actions.outcomes import ActionOutcome, Outcome, acceptance_rates
from search.actions.proposals import allowed_channels
from search.actions.record import record_outcome
from search.actions.sheet import customer_sheet
from search.audit import AuditEntry
from search.rights.overlay import CustomerNotFound
from search.segments.conditions import definitions_in_force
from search.segments.definitions import Channel
from search.segments.store import profile_of

router = APIRouter(prefix="/v1", tags=["actions"])


class ProposedAction(BaseModel):
    action: str
    label: str = Field(description="In French.")
    reason: str = Field(description="Why it was chosen, in French.")
    priority: int
    channels: list[str] = Field(description="Where it may be proposed to this customer: the rule's channels marketing may use for them.")
    product: str | None


class SegmentMembership(BaseModel):
    name: str
    label: str


class CustomerActions(BaseModel):
    customer_id: str
    segments: list[SegmentMembership]
    products_held: list[str]
    actions: list[ProposedAction]


class OutcomeInput(BaseModel):
    action: str = Field(min_length=1, max_length=64)
    outcome: Outcome
    reason: str | None = Field(default=None, max_length=300, description="Why the customer refused (required for a refusal).")
    channel: Channel = "counter"


class OutcomeRecorded(BaseModel):
    outcome_id: str
    customer_id: str
    action: str
    outcome: str
    channel: str
    shop: str | None
    at: str


@router.get("/customers/{customer_id}/actions", response_model=CustomerActions)
async def customer_actions(
    client: SyncOpenSearchDep,
    settings: SettingsDep,
    names: NamesDep,
    audit: AuditDep,
    watcher: RulesDep,
    caller: Annotated[Caller, Depends(allowed("actions"))],
    customer_id: CustomerId,
) -> CustomerActions:
    """The customer's segments and the best eligible actions, each with the reason it was chosen."""
    await run_in_threadpool(watcher.check, client, names)
    sheet = await run_in_threadpool(customer_sheet, client, settings, names, customer_id, True, caller.access.marketing)
    if sheet is None:
        raise CustomerNotFound(customer_id)
    await audit.record(AuditEntry(caller.name, caller.role_name, "actions", [customer_id], customer_id))
    return CustomerActions(
        customer_id=customer_id,
        segments=[SegmentMembership(name=s.name, label=s.label) for s in sheet.segments],
        products_held=sheet.products_held,
        actions=[ProposedAction(**vars(p)) for p in sheet.actions],
    )


@router.post("/customers/{customer_id}/actions", response_model=OutcomeRecorded, status_code=201)
async def post_outcome(
    client: SyncOpenSearchDep,
    settings: SettingsDep,
    names: NamesDep,
    audit: AuditDep,
    watcher: RulesDep,
    caller: Annotated[Caller, Depends(allowed("actions"))],
    customer_id: CustomerId,
    body: OutcomeInput,
) -> OutcomeRecorded:
    """Record what became of a proposal; a refusal holds the action back for its cooldown."""
    if body.outcome == "refused" and not (body.reason or "").strip():
        raise HTTPException(status_code=422, detail="reason: a refusal needs the customer's reason.")
    await run_in_threadpool(watcher.check, client, names)
    rules = {d["name"]: d for d in await run_in_threadpool(definitions_in_force, client, names, "action")}
    rule = rules.get(body.action)
    if rule is None:
        raise HTTPException(status_code=422, detail=f"action: {body.action!r} is not an action in force.")
    profile = await run_in_threadpool(profile_of, client, settings, names, customer_id)
    if profile is None:
        raise CustomerNotFound(customer_id)
    if body.channel not in rule["channels"]:
        raise HTTPException(status_code=422, detail=f"channel: {body.action} is not proposed by {body.channel}.")
    if not allowed_channels(profile, [body.channel]):
        raise HTTPException(status_code=422, detail=f"channel: marketing may not reach this customer by {body.channel} (consent).")
    outcome = ActionOutcome(
        customer_id,
        body.action,
        body.outcome,
        datetime.now(UTC),
        body.channel,
        caller.shop,
        (body.reason or "").strip() or None,
        caller.name,
    )
    await run_in_threadpool(record_outcome, client, settings, names, outcome)
    stored = outcome
    await audit.record(AuditEntry(caller.name, caller.role_name, "action_outcome", [customer_id], f"{body.action} {body.outcome}"))
    return OutcomeRecorded(
        outcome_id=stored.outcome_id,
        customer_id=customer_id,
        action=stored.action,
        outcome=stored.outcome,
        channel=stored.channel,
        shop=stored.shop,
        at=stored.at.isoformat(),
    )


class RatesResponse(BaseModel):
    by: str
    rows: list[dict[str, str | int | float | None]] = Field(
        description="Per group: proposed, accepted, refused, acceptance_rate (accepted out of accepted + refused)."
    )


@router.get("/actions/report", response_model=RatesResponse)
async def actions_report(
    client: SyncOpenSearchDep,
    names: NamesDep,
    caller: Annotated[Caller, Depends(allowed("actions_report"))],
    by: Annotated[Literal["action", "shop", "month"], Query()] = "action",
) -> RatesResponse:
    """Acceptance rates of the next best actions per action, per shop or per month."""
    return RatesResponse(by=by, rows=await run_in_threadpool(acceptance_rates, client, names, by))


class RulesInForce(BaseModel):
    file: str | None
    generation: str | None
    refused: str | None = Field(description="Why the last change of the file was refused, with its line; the rules in force stayed.")
    rules: list[dict[str, object]]


@router.get("/actions/rules", response_model=RulesInForce)
async def rules_in_force(
    client: SyncOpenSearchDep,
    names: NamesDep,
    watcher: RulesDep,
    caller: Annotated[Caller, Depends(allowed("actions_report"))],
) -> RulesInForce:
    """The rules in force, and whether the rules file's last change was refused (with its line)."""
    status = await run_in_threadpool(watcher.check, client, names)
    rules = await run_in_threadpool(definitions_in_force, client, names, "action")
    return RulesInForce(file=status.path, generation=status.generation, refused=status.refused, rules=rules)
