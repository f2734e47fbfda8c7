"""Stable customer ids: a customer keeps its id while most of its records stay together.

Each new cluster looks at the ids its records had. An old id goes to the cluster that holds most of
its records (a split leaves it with the larger part; the other parts get new ids and a `split`
redirect); a cluster holding several old ids keeps the one with most records, and the others
become `merge` redirects to it. New ids derive from the cluster's smallest record id, so a fresh
run over the same data gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Redirect:
    old_id: str
    new_id: str
    kind: str  # "merge" or "split"


def new_customer_id(seed: str, taken: set[str]) -> str:
    salt = 0
    while True:
        digest = hashlib.sha1(f"{seed}#{salt}".encode()).hexdigest()[:12].upper()
        candidate = f"C{digest}"
        if candidate not in taken:
            return candidate
        salt += 1


def assign_ids(clusters: list[list[str]], previous: dict[str, str], taken: set[str] | None = None) -> tuple[list[str], list[Redirect]]:
    """An id per cluster (lists of record ids) given each record's previous customer id, and the
    merges and splits that happened. A merged-away id no longer exists (redirect it); a split id
    lives on with the larger part, and the event says where the rest went."""
    taken = set(taken or ()) | set(previous.values())
    votes = [Counter(previous[r] for r in members if r in previous) for members in clusters]
    firsts = [min(members) for members in clusters]
    owner: dict[str, int] = {}
    for index, counter in enumerate(votes):
        for old_id, count in counter.items():
            best = owner.get(old_id)
            if best is None or count > votes[best][old_id] or (count == votes[best][old_id] and firsts[index] < firsts[best]):
                owner[old_id] = index
    ids: list[str] = []
    events: list[Redirect] = []
    for index in range(len(clusters)):
        mine = sorted((old for old in votes[index] if owner[old] == index), key=lambda old: (-votes[index][old], old))
        if mine:
            ids.append(mine[0])
            events.extend(Redirect(old, mine[0], "merge") for old in mine[1:])
        else:
            fresh = new_customer_id(firsts[index], taken)
            taken.add(fresh)
            ids.append(fresh)
    for index, counter in enumerate(votes):
        events.extend(Redirect(old, ids[index], "split") for old in counter if owner[old] != index and ids[owner[old]] == old)
    return ids, events


def revive_ids(
    clusters: list[list[str]], ids: list[str], events: list[Redirect], previous: dict[str, str], revive: dict[str, str]
) -> tuple[list[str], list[Redirect]]:
    """Clusters given a fresh id by assign_ids take back the id most of their records had before
    a decision now undone (`revive`: record → id), when no other cluster holds it: undoing a
    steward's merge brings the merged-away id back, not a new one."""
    taken = set(ids)
    fresh = set(ids) - set(previous.values())
    renamed: dict[str, str] = {}
    for index, members in enumerate(clusters):
        if ids[index] not in fresh:
            continue
        votes = Counter(revive[r] for r in members if r in revive)
        for old_id, _count in sorted(votes.items(), key=lambda item: (-item[1], item[0])):
            if old_id not in taken:
                renamed[ids[index]] = old_id
                taken.add(old_id)
                break
    if not renamed:
        return ids, events
    return [renamed.get(i, i) for i in ids], [Redirect(e.old_id, renamed.get(e.new_id, e.new_id), e.kind) for e in events]
