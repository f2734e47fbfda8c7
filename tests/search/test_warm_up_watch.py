"""NodeWarmer (search.warm_up) without a node: it warms once per start of the node's JVM, and a node
that does not answer leaves it waiting, not stopped."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from opensearchpy.exceptions import ConnectionError as NodeUnreachable
from opensearchpy.exceptions import ConnectionTimeout

import search.warm_up as warm_up_module
from api.policy import DEMO_POLICY, Policy
from search.indices import IndexNames
from search.warm_up import NodeWarmer, WarmUpPlan


class Node:
    """The answers of `_nodes/_local/jvm`: a start time, or unreachable."""

    def __init__(self) -> None:
        self.started: int | None = 1

    async def info(self, **_: Any) -> dict[str, Any]:
        if self.started is None:
            raise NodeUnreachable("N/A", "refused", OSError())
        return {"nodes": {"n1": {"jvm": {"start_time_in_millis": self.started}}}}


def test_the_node_is_warmed_again_after_it_restarts_and_waited_for_while_it_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    node = Node()
    warmed: list[int | None] = []

    async def counted(client: Any, plan: WarmUpPlan) -> int:
        warmed.append(node.started)
        return plan.rounds

    monkeypatch.setattr(warm_up_module, "warm_up", counted)

    async def run() -> list[str]:
        warmer = NodeWarmer(SimpleNamespace(nodes=node), WarmUpPlan(IndexNames("t"), (), (), 20, 3), check_s=0.01)  # type: ignore[arg-type]
        states = []
        warmer.start()
        await asyncio.sleep(0.1)
        states.append(warmer.state)  # warmed once, not again while the node stays up
        node.started = None
        await asyncio.sleep(0.1)
        states.append(warmer.state)  # down: waiting, still watching
        node.started = 2
        await asyncio.sleep(0.1)
        states.append(warmer.state)  # restarted: warmed again
        await warmer.stop()
        return states

    assert asyncio.run(run()) == ["done", "waiting", "done"]
    assert warmed == [1, 2]


class Cluster(Node):
    """Several hosts in RCU_OPENSEARCH_URL: each `_nodes/_local` answer comes from the next node."""

    def __init__(self, starts: list[int]) -> None:
        super().__init__()
        self.starts, self.asked = starts, 0

    async def info(self, **_: Any) -> dict[str, Any]:
        self.asked += 1
        if self.asked == 4:
            return {"nodes": {}}  # an answer of an unexpected shape once
        return {"nodes": {"n": {"jvm": {"start_time_in_millis": self.starts[self.asked % len(self.starts)]}}}}


def test_a_cluster_reached_through_several_hosts_is_warmed_once_per_node_start(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster([1, 2, 3])
    warmed: list[int] = []

    async def counted(client: Any, plan: WarmUpPlan) -> int:
        warmed.append(cluster.asked)
        return plan.rounds

    monkeypatch.setattr(warm_up_module, "warm_up", counted)

    async def run() -> str:
        warmer = NodeWarmer(SimpleNamespace(nodes=cluster), WarmUpPlan(IndexNames("t"), (), (), 20, 3), check_s=0.005)  # type: ignore[arg-type]
        warmer.start()
        await asyncio.sleep(0.2)
        await warmer.stop()
        return warmer.state

    assert asyncio.run(run()) == "done"  # the odd answer did not end the watch
    assert cluster.asked > 10 and len(warmed) == 3  # each of the three nodes' starts once, not every check


def test_no_warm_up_is_started_when_its_rounds_are_zero() -> None:
    async def run() -> tuple[str, bool]:
        warmer = NodeWarmer(SimpleNamespace(nodes=Node()), WarmUpPlan(IndexNames("t"), (), (), 20, 0), check_s=0.01)  # type: ignore[arg-type]
        warmer.start()
        started = warmer._task is not None
        await warmer.stop()
        return warmer.state, started

    assert asyncio.run(run()) == ("off", False)


class Failing:
    """A client every request of which fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.asked = 0

    def __getattr__(self, name: str) -> Any:
        async def fail(*_: Any, **__: Any) -> Any:
            self.asked += 1
            raise self.error

        return fail


def test_a_slow_answer_does_not_end_the_warm_up_and_a_node_that_is_down_does() -> None:
    access = Policy.load(DEMO_POLICY).roles["counter"].field_access()
    plan = WarmUpPlan(IndexNames("t"), (access,), (), 20, 3)
    slow = Failing(ConnectionTimeout("TIMEOUT", "read timed out", OSError()))
    assert asyncio.run(warm_up_module.warm_up(slow, plan)) == 3  # type: ignore[arg-type]
    down = Failing(NodeUnreachable("N/A", "refused", OSError()))
    with pytest.raises(NodeUnreachable):
        asyncio.run(warm_up_module.warm_up(down, plan))  # type: ignore[arg-type]
    assert down.asked < slow.asked


def test_the_warm_up_leaves_the_node_idle_as_long_as_it_kept_it_busy() -> None:
    """Agents arriving while the node warms find it idle at least half the time: after each step the
    warm-up pauses as long as the step's requests took."""
    access = Policy.load(DEMO_POLICY).roles["counter"].field_access()
    plan = WarmUpPlan(IndexNames("t"), (access,), (), 20, 3)
    pauses: list[float] = []

    class Slow(Failing):
        def __getattr__(self, name: str) -> Any:
            async def slow(*_: Any, **__: Any) -> Any:
                await asyncio.sleep(0.02)
                raise self.error

            return slow

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    node = Slow(ConnectionTimeout("TIMEOUT", "read timed out", OSError()))
    assert asyncio.run(warm_up_module.warm_up(node, plan, pause)) == 3  # type: ignore[arg-type]
    assert len(pauses) == 3  # one per step: one access, three rounds
    assert all(seconds >= 0.02 for seconds in pauses)  # each step waited for at least one slow answer
