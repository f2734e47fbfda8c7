"""Customers whose own records disagree on an identity field (two birth dates, two civilities),
or that hold a record joined on names alone (search.resolve.clustering: the only customer a name
fits): records joined on evidence a person should look at.
Resolution keeps one document per such customer (`<prefix>-identity-conflicts`) for the review
queue (search.steward.queue), rewritten with the customers it writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.store import send_actions

IDENTITY_FIELDS = ("birth_date", "civility")
# Listed beside the identity fields: a record joined through a link resting on names alone.
NAME_ALONE = "name_alone"


def identity_conflict(
    customer_id: str, members: list[dict[str, Any]], now: datetime, weak: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    """The conflict document of a customer whose records disagree on an identity field, or that
    holds a record joined on names alone (`weak`: such records), or None."""
    divided: dict[str, int] = {}
    for field in IDENTITY_FIELDS:
        values = {r[field] for r in members if r.get(field)}
        if len(values) > 1:
            divided[field] = len(values)
    if weak and any(r["record_id"] in weak for r in members):
        divided[NAME_ALONE] = 1
    if not divided:
        return None
    return {
        "customer_id": customer_id,
        "fields": sorted(divided),
        "records": sorted(r["record_id"] for r in members),
        "sources": sorted({r["source"] for r in members}),
        "values": max(divided.values()),
        "updated_at": now.isoformat(),
    }


def save_identity_conflicts(
    client: OpenSearch,
    names: IndexNames,
    written: list[tuple[str, list[dict[str, Any]]]],
    removed: list[str],
    everything: bool,
    now: datetime,
    weak: frozenset[str] = frozenset(),
    stored: set[str] | None = None,
) -> None:
    """Rewrite the conflicts of the customers a run wrote (all of them when `everything`: a
    full run starts from none) and drop those of removed customers. `weak`: records the run
    joined on names alone; `stored`: identity_conflict_actions'."""
    if everything:
        client.delete_by_query(
            index=names.identity_conflicts, body={"query": {"match_all": {}}}, conflicts="proceed", refresh=True, ignore_unavailable=True
        )
    send_actions(client, identity_conflict_actions(names, written, removed, everything, now, weak, stored))


def identity_conflict_actions(
    names: IndexNames,
    written: list[tuple[str, list[dict[str, Any]]]],
    removed: list[str],
    everything: bool,
    now: datetime,
    weak: frozenset[str] = frozenset(),
    stored: set[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """The bulk actions of save_identity_conflicts (without its clearing of every conflict).
    `stored`: the only customers that can hold a stored conflict, when the caller knows them (a
    full run: the customers stored before it; a conflict is written after its customer): a customer
    without a conflict gets a deletion only if it is one of them. A first full run otherwise sent a
    deletion of nothing for nearly every customer (41,882 for 43,270 at 100k), each a tombstone the
    node writes."""
    for customer_id, members in written:
        document = identity_conflict(customer_id, members, now, weak)
        if document is not None:
            yield {"_op_type": "index", "_index": names.identity_conflicts, "_id": customer_id, "_source": document}
        elif not everything and (stored is None or customer_id in stored):
            yield {"_op_type": "delete", "_index": names.identity_conflicts, "_id": customer_id}
    for customer_id in removed:
        yield {"_op_type": "delete", "_index": names.identity_conflicts, "_id": customer_id}
