"""The node warmed after it starts, so the first agent's 360 view does not pay for it.

Right after a node starts, half of a 360 view's node CPU is the JVM compiling the code the view's
requests run (the C1 and C2 compiler threads), and the search threads' own CPU halves as compiled
code replaces interpreted code over the first few hundred views (bench/RESULTS.md, session 17,
s17-sheet: 102 ms of node CPU per view right after a restart against 39 ms warm, 100,000 customers).

`warm_up` replays the query shapes of the 360 view (api.routes.customers: the customer's get, its
records, household and possible matches, the timeline, figures and holdings over the events, the
generations in force with the profile, the segments' and the action rules' percolation, the
refusals) and of the look-up (search.lookup: a name with a postcode, a phone, an e-mail, each with
its second tier) through the same functions the routes call, for a customer that does not exist:
`PHANTOM_ID`, holding the one record `PHANTOM_RECORD`, percolated as a profile built from nothing.
Every search is of that id or that record — a look-up's query is kept to that id by a filter — so
no customer, record, event or profile is read, nothing is written, and nothing is audited (no
caller asks for anyone), logged or cached but the definitions in force (search.segments.conditions,
read once per process anyway). The push's candidate search is not replayed (indexers.push writes
before it searches).

`NodeWarmer` runs it in the background when `rcu serve` starts, and again whenever the node's JVM
has started since (its start time, asked every `check_s`): a node that is down is asked again at
the next check, and never blocks the API's start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConnectionError as NodeUnreachable
from opensearchpy.exceptions import ConnectionTimeout, OpenSearchException

from search.access import FieldAccess
from search.actions.proposals import matched_and_refused_searches
from search.coalesce import CoalescingClient
from search.customer_query import plan_lookup
from search.events.model import CustomerFigures
from search.events.view import interactions_view
from search.indices import IndexNames
from search.lookup import _household_of, _records_of, possibly_same_customers, search_body
from search.query_parser import parse_query
from search.segments.conditions import generations_from, generations_mget_body, matched_slots
from search.segments.membership import segments_search
from search.segments.profiles import Household, profile_document, with_current_day_count

log = logging.getLogger(__name__)

# No customer, record or profile holds these ids: customer ids are generated hex (search.resolve.ids),
# record ids are `source:source_id` with a source of the ingestion contract.
PHANTOM_ID = "rcu-warm-up"
PHANTOM_RECORD = "rcu-warm-up:0"
# What the counter types, one of each kind the look-up plans differently; the filter on PHANTOM_ID
# keeps whatever they would match out of the answer.
LOOKUP_TEXTS = ("jean martin 69002", "06 00 00 00 00", "warm-up@example.invalid")
# After each step the warm-up waits IDLE_PER_BUSY times as long as the step took, so it holds at most
# half of the node's time while the first agents arrive (session 18: 200 rounds, unpaced, took 77–145 s
# of wall and 37–41 s of node CPU at load 10–17, and one of a test's look-ups beside it met the API's
# 2 s deadline). A bound chosen for that reason, not fitted: the warm-up takes twice as long.
IDLE_PER_BUSY = 1.0


def phantom_only(query: dict[str, Any]) -> dict[str, Any]:
    """`query` kept to the phantom customer: its shape runs, no customer is in its answer."""
    return {"bool": {"must": [query], "filter": [{"ids": {"values": [PHANTOM_ID]}}]}}


def phantom_profile(now: datetime) -> dict[str, Any]:
    """The profile of a customer known by nothing: no name, birth date, address, event or household."""
    nothing = CustomerFigures(last_seen=None, visits_12m=0, spend_12m=0.0, shops=[], channels=[], products_held=[])
    return profile_document({"customer_id": PHANTOM_ID, "records": [PHANTOM_RECORD]}, nothing, Household(1, 0), now)


async def phantom_view(
    client: AsyncOpenSearch, names: IndexNames, access: FieldAccess, holding_attributes: Sequence[str], page: int, with_actions: bool
) -> None:
    """The 360 view's reads for the phantom customer, in the view's round trips (one CoalescingClient)."""
    batched: Any = CoalescingClient(client)
    now = datetime.now(UTC)
    customer = {"customer_id": PHANTOM_ID, "records": [PHANTOM_RECORD]}

    async def identity_and_interactions() -> None:
        fields = ",".join([*access.customer_source(), "household_key"])
        await batched.get(index=names.customers, id=PHANTOM_ID, _source_includes=fields, ignore=[404])
        await asyncio.gather(
            _records_of(batched, names, customer, access),
            _household_of(batched, names, PHANTOM_ID, PHANTOM_ID, access),
            possibly_same_customers(batched, names, PHANTOM_ID, access),
            interactions_view(batched, names, customer, access, now, holding_attributes, page),
        )

    async def sheet() -> None:
        read = await batched.mget(body=generations_mget_body(names, (names.profiles, PHANTOM_ID)))
        generations, _ = generations_from(read["docs"])
        profile, segments = phantom_profile(now), []
        if generations["segment"]:
            header, body = segments_search(names, generations["segment"], profile)
            (segments,) = matched_slots(await batched.search(body=body, **header), 1)
        if with_actions and generations["action"]:
            current = {**with_current_day_count(profile, now), "segments": segments}
            searches = matched_and_refused_searches(names, current, generations["action"])
            await asyncio.gather(*(batched.search(body=body, **header) for header, body in searches))

    await asyncio.gather(identity_and_interactions(), sheet())


async def phantom_lookups(client: AsyncOpenSearch, names: IndexNames, access: FieldAccess, shop: str | None = None) -> None:
    """The look-up's searches (both tiers) of `LOOKUP_TEXTS`, each kept to the phantom customer."""
    for text in LOOKUP_TEXTS:
        plan = plan_lookup(parse_query(text), access, shop)
        for query in (plan.query, plan.fallback):
            if query is not None:
                await client.search(index=names.customers, body=search_body(phantom_only(query), access, 10, plan.kinds))


@dataclass(frozen=True)
class WarmUpPlan:
    """What a warm-up replays: the phantom 360 view for each field access (a role's reads shape its
    requests; the same access once), the view's first page of `page` events, and the look-ups."""

    names: IndexNames
    accesses: tuple[FieldAccess, ...]
    holding_attributes: tuple[str, ...]
    page: int
    rounds: int


async def warm_up(client: AsyncOpenSearch, plan: WarmUpPlan, pause: Callable[[float], Awaitable[None]] = asyncio.sleep) -> int:
    """`plan.rounds` rounds of phantom 360 views and look-ups for each distinct field access, one
    access at a time (its view beside its look-ups: a few requests in flight, so an agent's request
    arriving meanwhile is not queued behind a burst), each followed by a `pause` as long as it took
    (IDLE_PER_BUSY); returns the rounds run. A missing index
    (nothing ingested yet) fails its own read alone."""
    names = plan.names
    distinct = list({repr(access): access for access in plan.accesses}.values())
    clock = asyncio.get_running_loop().time
    for _ in range(plan.rounds):
        for access in distinct:
            began = clock()
            results = await asyncio.gather(
                phantom_view(client, names, access, plan.holding_attributes, plan.page, with_actions=True),
                phantom_lookups(client, names, access),
                return_exceptions=True,
            )
            for result in results:
                # A node that is down ends the warm-up (the watcher asks again later); one slow answer of a
                # node still compiling (the API's 2 s deadline) does not.
                if isinstance(result, NodeUnreachable) and not isinstance(result, ConnectionTimeout):
                    raise result
            await pause((clock() - began) * IDLE_PER_BUSY)  # agents first (IDLE_PER_BUSY)
    return plan.rounds


async def node_started_at(client: AsyncOpenSearch) -> int:
    """When the JVM of the node the API talks to started (epoch ms): it changes when the node restarts."""
    info = await client.nodes.info(node_id="_local", metric="jvm", filter_path="nodes.*.jvm.start_time_in_millis")
    return max(node["jvm"]["start_time_in_millis"] for node in info["nodes"].values())


class NodeWarmer:
    """`warm_up` in the background: at once, then whenever the node has restarted since (module docstring)."""

    def __init__(self, client: AsyncOpenSearch, plan: WarmUpPlan, check_s: float) -> None:
        self.client, self.plan, self.check_s = client, plan, check_s
        self.state = "off" if plan.rounds <= 0 else "waiting"  # waiting (for the node), running, done
        self.warmed = 0  # how many times the node was warmed
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.plan.rounds > 0:
            self._task = asyncio.create_task(self._watch(), name="rcu-node-warm-up")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _watch(self) -> None:
        # Every node's start seen warmed: with several hosts in RCU_OPENSEARCH_URL each check may reach
        # another node (another JVM start time), which must not start the warm-up over every check.
        warmed_for: set[int] = set()
        while True:
            try:
                started = await node_started_at(self.client)
                if started not in warmed_for:
                    self.state = "running"
                    began = asyncio.get_running_loop().time()
                    await warm_up(self.client, self.plan)
                    warmed_for.add(started)
                    self.warmed, self.state = self.warmed + 1, "done"
                    log.info("node_warmed rounds=%d seconds=%.1f", self.plan.rounds, asyncio.get_running_loop().time() - began)
                else:
                    self.state = "done"  # the node answers again, warmed already
            except asyncio.CancelledError:
                raise
            except (OpenSearchException, OSError, TimeoutError) as error:  # the node down or restarting: asked again at the next check
                self.state = "waiting"
                log.warning("node_warm_up_deferred error=%s", type(error).__name__)
            except (KeyError, ValueError, TypeError) as error:  # an answer of an unexpected shape: said, asked again, never a dead task
                self.state = "waiting"
                log.warning("node_warm_up_failed error=%s", type(error).__name__)
            await asyncio.sleep(self.check_s)
