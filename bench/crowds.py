"""What a look-up's recall can reach when what was typed fits many customers as well (bench/search_quality).

"mart je" fits every Martin, Martinez or Martineau whose given name begins with "je"; the counter
typed nothing that tells them apart. The crowd of a look-up is every customer of the index that
fits what was typed at least as the person's own names and town do (search_quality.fits_as_well),
and the person's own customers. Two figures bound what a ranking of the crowd can reach:

- by chance (`by_chance_at`): the crowd shuffled — the chance one of the person's customers is in
  the first k when the ranking knows nothing that sets the crowd's customers apart;
- the ceiling (`ceiling_at`): one customer per person of the crowd first — min(1, k / persons). The
  benchmark draws the person at random among those the look-up fits, so no ranking can do better
  on average without knowing who is at the counter (the agent's shop is such knowledge, and is
  counted in the crowd: with a shop named, only its cardholders fit as well). Customers beyond one
  per person are the person's split records or another person's; a ranking that puts a person's
  best-kept customer first (more records, more systems) reaches towards the ceiling, one that
  scores customers by how little their records say falls below chance.

Pure: the crowd is counted from the hits of a search the benchmark sends (CROWD_SIZE, the crowds
beyond it are counted as that many, a lower bound, and said so)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from math import comb
from typing import Any

# The customers read to count a crowd: beyond it the crowd is counted as CROWD_SIZE (the ceiling is
# then at most k / CROWD_SIZE, below what any figure here can show).
CROWD_SIZE = 1000


@dataclass(frozen=True)
class Crowd:
    """The customers fitting a look-up as well as the person does: how many (`customers`), how many
    of them are the person's (`own`) and how many people they are (`persons`, the person included)."""

    customers: int
    own: int
    persons: int
    cut: bool = False  # the search returned CROWD_SIZE customers: there may be more
    # False where no right answer holds the person: a role's exact check of a value none of their
    # records holds must not confirm them (search_quality's verified birth date over everyone dated).
    reachable: bool = True


def crowd_of(
    hits: Iterable[dict[str, Any]],
    person_records: set[str],
    owners: Mapping[str, str],
    fits: Callable[[dict[str, Any]], bool],
    size: int = CROWD_SIZE,
) -> Crowd:
    """The crowd among `hits` (search hits with `_source.records`): the person's customers (holding
    one of `person_records`) and the customers `fits` says fit as well, each owned by the person
    most of its records are of (`owners`: record id → person id)."""
    hits = list(hits)
    own = 0
    persons: set[str] = set()
    customers = 0
    for hit in hits:
        records = set(hit["_source"].get("records") or [])
        if person_records & records:
            own += 1
            customers += 1
        elif fits(hit["_source"]):
            customers += 1
            held = Counter(owners[record] for record in records if record in owners)
            persons.add(held.most_common(1)[0][0] if held else f"customer:{hit.get('_id')}")
    persons.discard("")
    # The person counts as one person of the crowd even when the search did not find them.
    return Crowd(customers=max(customers, own, 1), own=own, persons=len(persons) + 1, cut=len(hits) >= size)


def ceiling_at(k: int, crowd: Crowd) -> float:
    """The best a ranking knowing nothing of who is at the counter can reach at k: one customer
    per person of the crowd first, the person among them by chance (0 where no right answer holds
    the person: Crowd.reachable)."""
    return min(1.0, k / crowd.persons) if crowd.reachable else 0.0


def by_chance_at(k: int, crowd: Crowd) -> float:
    """The chance one of the person's customers is in the first k with the crowd shuffled (0 when
    the search found none of them)."""
    if crowd.own == 0:
        return 0.0
    others = crowd.customers - crowd.own
    return 1.0 - comb(others, k) / comb(crowd.customers, k) if k <= crowd.customers else 1.0
