"""A data steward's decisions as clustering constraints: records that must be one customer
(must-link) and sets of records that must never be (cannot-link).

Each decision (search.steward) binds record ids, never customer ids: records keep their ids
through every run, customers do not. A decision says which records go `together` and which two
sets stay `apart`. Decisions are applied newest first, and an older one gives way where a newer one
contradicts it, record by record: a merge decided in March whose records a steward split in June
keeps only the unions the split leaves possible.

Compiled, the rules are a union-find of must-linked records, each component tagged with the
cannot-links it is on one side of `(constraint, side)`. Two groups of records may be one customer
unless one carries `(c, 0)` and the other `(c, 1)`. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Why a link was held apart when a steward's decision did it (beside clustering's rules).
STEWARD_APART = "kept_apart_by_steward"
# A link a decision holds apart, resting on a record the decision did not name: new evidence that
# the steward never saw, so the pair goes back to the queue instead of being overridden silently.
STEWARD_CONTESTED = "kept_apart_by_steward_contested"

Tag = tuple[int, int]  # (cannot-link number, side 0 or 1)


@dataclass(frozen=True)
class DecisionRule:
    """What one decision binds, in record ids."""

    decision_id: str
    at: str  # ISO 8601: newer decisions win
    together: tuple[tuple[str, ...], ...] = ()
    apart: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()


class _RecordGroups:
    """Union-find over record ids; each root keeps the cannot-link tags of its component."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.tags: dict[str, set[Tag]] = {}

    def find(self, record: str) -> str:
        parent = self.parent.setdefault(record, record)
        while parent != record:
            grand = self.parent[parent]
            self.parent[record] = grand
            record, parent = parent, grand
        return record

    def may_join(self, a: str, b: str) -> bool:
        ta, tb = self.tags.get(self.find(a), set()), self.tags.get(self.find(b), set())
        return not any((c, 1 - s) in tb for c, s in ta)

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.tags.setdefault(ra, set()).update(self.tags.pop(rb, set()))


@dataclass
class CompiledRules:
    """Decisions reduced to must-link components and cannot-link tags over record ids."""

    groups: _RecordGroups = field(default_factory=_RecordGroups)
    apart_decisions: list[str] = field(default_factory=list)  # cannot-link number → decision id
    bound: set[str] = field(default_factory=set)  # every record an applied decision names
    skipped: list[str] = field(default_factory=list)  # decisions a newer one overrode entirely

    def constraints_for(self, record_ids: Sequence[str]) -> Constraints:
        """The rules as they bear on these records (indices into `record_ids`)."""
        index = {record: i for i, record in enumerate(record_ids)}
        components: dict[str, list[int]] = {}
        tags: dict[int, frozenset[Tag]] = {}
        for record, i in index.items():
            if record not in self.groups.parent:
                continue
            root = self.groups.find(record)
            components.setdefault(root, []).append(i)
            found = self.groups.tags.get(root)
            if found:
                tags[i] = frozenset(found)
        together = [members for members in components.values() if len(members) > 1]
        bound = frozenset(index[r] for r in self.bound if r in index)
        return Constraints(together, tags, bound)


def compile_rules(rules: Iterable[DecisionRule]) -> CompiledRules:
    """Apply decisions newest first; what an older one says against a newer one is dropped."""
    compiled = CompiledRules()
    groups = compiled.groups
    for rule in sorted(rules, key=lambda r: (r.at, r.decision_id), reverse=True):
        applied = False
        for left, right in rule.apart:
            if any(groups.find(a) == groups.find(b) for a in left for b in right):
                continue  # a newer decision put some of these records together
            number = len(compiled.apart_decisions)
            compiled.apart_decisions.append(rule.decision_id)
            for side, records in enumerate((left, right)):
                for record in records:
                    groups.tags.setdefault(groups.find(record), set()).add((number, side))
            compiled.bound.update(left)
            compiled.bound.update(right)
            applied = True
        for members in rule.together:
            first = members[0]
            for other in members[1:]:
                if groups.may_join(first, other):
                    groups.union(first, other)
                    compiled.bound.update((first, other))
                    applied = True
        if not applied:
            compiled.skipped.append(rule.decision_id)
    return compiled


@dataclass(frozen=True)
class Constraints:
    """Decisions over one resolution's records (by index): groups to start from, and tags."""

    together: list[list[int]] = field(default_factory=list)
    tags: dict[int, frozenset[Tag]] = field(default_factory=dict)
    bound: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.together or self.tags)

    def group_tags(self, members: Iterable[int]) -> set[Tag]:
        found: set[Tag] = set()
        for member in members:
            found |= self.tags.get(member, frozenset())
        return found

    def apart(self, a: Iterable[int], b: Iterable[int]) -> bool:
        """Whether a decision keeps these two groups of records from being one customer."""
        if not self.tags:
            return False
        ta = self.group_tags(a)
        if not ta:
            return False
        tb = self.group_tags(b)
        return any((c, 1 - s) in tb for c, s in ta)

    def link_rule(self, i: int, j: int) -> str:
        """A link held apart by a decision: known to the steward (both records named), or contested."""
        return STEWARD_APART if i in self.bound and j in self.bound else STEWARD_CONTESTED


NO_CONSTRAINTS = Constraints()
