"""The customer's rights from the command line: `rcu subject export|erase`, `rcu retention` and
`rcu audit report` (an operator's actions, written to the audit trail as `cli:<user>`) and
`rcu audit ship` (a dead API's audit journal to the audit index)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from rcu.commands.resolution import resolution_config
from search.client import sync_client
from search.indices import IndexNames
from settings import get_settings


def export(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    html: Annotated[bool, typer.Option("--html", help="A readable French document instead of JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="File to write (standard output by default).")] = None,
) -> None:
    """Everything held about one customer (GDPR art. 15 and 20), as JSON or a French document."""
    from search.rights.export import subject_export
    from search.rights.export_html import export_html
    from search.rights.trail import record_operator_action

    settings = get_settings()
    client = sync_client(settings)
    names = IndexNames.for_settings(settings)
    try:
        document = subject_export(client, names, customer_id)
        record_operator_action(client, names, "export", [customer_id])
    finally:
        client.close()
    text = export_html(document) if html else json.dumps(document, ensure_ascii=False, indent=2)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{customer_id} → {out}")
    else:
        typer.echo(text)


def erase(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    expunge: Annotated[
        bool, typer.Option("--expunge", help="Then merge away deleted documents in every index (slow on large indices).")
    ] = False,
) -> None:
    """Erase one customer from every index (GDPR art. 17); its identifiers go to the suppression list."""
    from search.rights.erasure import DeletesStillHeld, erase_customer, expunge_deletes
    from search.rights.trail import operator, record_operator_action

    settings = get_settings()
    client = sync_client(settings)
    names = IndexNames.for_settings(settings)
    try:
        report = erase_customer(client, names, resolution_config(), customer_id, settings.suppression_key_bytes, operator())
        record_operator_action(client, names, "erasure", [report.pseudonym])
        typer.echo(
            f"erased {customer_id}: records={report.records} identifiers_suppressed={report.identifiers_suppressed} "
            f"audit_keys_forgotten={report.audit_keys_forgotten} former_ids={len(report.former_ids)}"
        )
        if expunge:
            expunged = expunge_deletes(client, names, settings.expunge_lease_wait_s)
            if expunged.held:
                raise DeletesStillHeld(expunged)
            typer.echo(f"expunged: {expunged.summary()}")
    finally:
        client.close()


def retention(
    apply: Annotated[bool, typer.Option("--apply", help="Erase and age out; without it, only list what would go.")] = False,
    days: Annotated[
        int | None, typer.Option(min=1, help="Erase prospects with no record update for this many days (RCU_RETENTION_DAYS).")
    ] = None,
    customer_days: Annotated[
        int | None,
        typer.Option(min=1, help="Erase customers with no record update for this many days (RCU_CUSTOMER_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Retention: prospects with no record update and no event for their period (3 years by default),
    customers (a purchase or subscription event, or a record from RCU_CUSTOMER_SOURCES) for theirs
    (5 years) are erased, audit and change feed entries past their periods aged out. A dry run unless --apply."""
    from search.changes import expire_erasure_notices
    from search.rights.retention import (
        CUSTOMER,
        PROSPECT,
        RetentionPeriods,
        apply_retention,
        index_state_management,
        retention_plan,
    )
    from search.rights.trail import operator

    settings = get_settings()
    client = sync_client(settings)
    names = IndexNames.for_settings(settings)
    now = datetime.now(UTC)
    periods = RetentionPeriods(
        days or settings.retention_days,
        customer_days or settings.customer_retention_days,
        tuple(settings.customer_event_types),
        tuple(settings.customer_sources),
    )
    try:
        plan = retention_plan(
            client,
            names,
            now,
            periods,
            settings.audit_retention_days,
            settings.changes_retention_days,
            settings.events_retention_months,
        )
        for kind, label in ((PROSPECT, "prospects"), (CUSTOMER, "customers")):
            listed = [(c, updated_at) for c, updated_at in plan.customers if plan.kinds[c] == kind]
            typer.echo(f"{label} past {periods.days(kind)} days: {len(listed)}")
            for customer_id, updated_at in listed:
                typer.echo(f"{customer_id}\tlast update {updated_at[:10]}")
        typer.echo(
            f"to erase: {len(plan.customers)} (undated, kept: {plan.undated_customers}); "
            f"audit entries past {settings.audit_retention_days} days: {plan.audit_entries}; "
            f"change feed entries past {settings.changes_retention_days} days: {plan.changes}; "
            f"kept for an event in the period: {plan.kept_for_events}; "
            f"events indices past {settings.events_retention_months} months: {len(plan.event_indices)}"
        )
        # rcu ages entries out itself whether or not the cluster could (search.rights.retention).
        typer.echo(
            f"index state management: {index_state_management(client)} on the connected cluster; entries aged out by delete by query"
        )
        if not apply:
            typer.echo("dry run: nothing erased (--apply to erase)")
            return
        erased = apply_retention(
            client,
            names,
            resolution_config(),
            plan,
            now,
            settings.audit_retention_days,
            settings.changes_retention_days,
            settings.suppression_key_bytes,
            f"{operator()} (retention)",
        )
        # Erasure notices past their period lose the erased records' keys (search.changes.erased_change).
        notices = expire_erasure_notices(client, names, now - timedelta(days=settings.erasure_notice_days))
    finally:
        client.close()
    typer.echo(
        f"erased {erased} customers, dropped the record keys of {notices} erasure notices past {settings.erasure_notice_days:g} days, "
        f"aged out {plan.audit_entries} audit and {plan.changes} change feed entries "
        f"and {len(plan.event_indices)} events indices, with the older events of the one straddling the cutoff"
    )


def audit_report(hours: Annotated[int, typer.Option(min=1, help="How far back to look.")] = 24) -> None:
    """Distinct customers read per key and hour, keys past their role's limit first, and the
    misuse suspicions the API reported."""
    from api.policy import DEMO_POLICY, Policy
    from search.misuse import hourly_reads, report_window, suspected

    settings = get_settings()
    policy = Policy.load(settings.policy or DEMO_POLICY)
    limits = {name: role.max_customers_per_hour for name, role in policy.roles.items() if role.max_customers_per_hour}
    client = sync_client(settings)
    names = IndexNames.for_settings(settings)
    since = report_window(hours, datetime.now(UTC))
    try:
        rows = hourly_reads(client, names, since, limits)
        suspicions = suspected(client, names, since)
    finally:
        client.close()
    for row in rows:
        flag = "OVER LIMIT" if row.over else "ok"
        typer.echo(f"{flag}\t{row.hour}\t{row.caller}\t{row.role}\t{row.distinct_customers} customers\tlimit {row.limit or '-'}")
    for entry in suspicions:
        typer.echo(f"suspected\t{entry['at']}\t{entry['caller']}\t{entry['role']}\t{entry.get('query') or ''}")
    typer.echo(f"{sum(r.over for r in rows)} key-hours over their limit, {len(suspicions)} suspicions in the last {hours} h")


def audit_ship() -> None:
    """Ship to the audit index what API processes that died left in the audit journal
    (RCU_AUDIT_JOURNAL_PATH); a running API ships its own, and the next API started does this too."""
    import asyncio

    from search.audit import ensure_audit_index
    from search.audit_journal import AuditJournal
    from search.audit_shipper import AuditShipper, ShippingLimits
    from search.client import async_client

    settings = get_settings()
    names = IndexNames.for_settings(settings)

    async def ship() -> int:
        client = async_client(settings)
        journal = AuditJournal(settings.audit_journal_folder, settings.audit_journal_segment_bytes)
        shipper = AuditShipper(
            journal,
            client,
            names,
            ShippingLimits(settings.audit_ship_batch_bytes, settings.audit_ship_interval_s, settings.audit_ship_retry_s),
            settings.suppression_key_bytes,
        )
        try:
            await ensure_audit_index(client, names)
            shipper.orphans = journal.orphans() if journal.folder.is_dir() else []
            return await shipper.ship()
        finally:
            for slot in shipper.orphans:
                slot.release()
            await client.close()

    typer.echo(f"shipped {asyncio.run(ship())} audit entries left by stopped API processes")
