"""What one caller may read and search, as index paths: the API builds it from the access policy,
every query in search/ takes it, so a field a role may not read is never fetched from OpenSearch,
never highlighted and never searched on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, get_args

from analyzers.masks import MASKS, MaskName

# Query kinds the look-up understands; a role searches only through those it is granted, and may
# verify (an exact filter that returns the customer, never the value) those the policy says.
QueryKind = Literal["names", "phone", "email", "card", "postcode", "birth_date", "city"]
QUERY_KINDS: tuple[QueryKind, ...] = get_args(QueryKind)
# Parts of a query looked up through another kind's field: a département is a postcode's beginning.
ACCESS_KIND = {"departement": "postcode"}
# Where the exact-valued kinds are found in the customers index: look-up terms and highlights.
CUSTOMER_PATHS = {"email": "emails", "phone": "phones", "card": "loyalty_cards.card", "postcode": "postcode", "birth_date": "birth_date"}

# Fields every caller sees: identifiers of the customer and of its records, and dates of resolution.
CUSTOMER_ALWAYS = (
    "customer_id",
    "records",
    "sources",
    "record_count",
    "updated_at",
    "resolved_at",
    "addresses.source",
    "addresses.record_id",
    "addresses.updated_at",
    "addresses.rule",
    "consents",
    "restricted",
    "consent_history",
    "consents_granted",
)
# The detail the 360 view adds to a golden record: where each value came from, past addresses.
# Look-up hits (type-ahead lists, a customer's household) carry the current values only.
CUSTOMER_DETAIL = ("provenance.", "addresses.", "consent_history")
RECORD_ALWAYS = ("record_id", "source", "source_id", "updated_at", "deleted")


@dataclass(frozen=True)
class FieldAccess:
    customer_fields: tuple[str, ...]
    record_fields: tuple[str, ...]
    searchable: frozenset[str]
    highlight_fields: tuple[str, ...] = ()
    masks: dict[str, MaskName] = field(default_factory=dict)  # customer or record field path → mask rule
    verifiable: frozenset[str] = frozenset()
    marketing: bool = False  # a marketing use: restricted customers and refused channels are left out
    # Interactions (search.events): the timeline, offers held and figures; or the figures alone.
    interactions: bool = False
    figures: bool = False

    @property
    def reads_attributes(self) -> bool:
        """Source attributes (free text: a call-center note, an event's extras) are read."""
        return "attributes" in self.record_fields

    def consent_filter(self) -> list[dict[str, Any]]:
        """Filter clauses every customer query of this caller carries (none for a service use)."""
        return [{"bool": {"must_not": [{"term": {"restricted": True}}]}}] if self.marketing else []

    def can_search(self, kind: str) -> bool:
        return ACCESS_KIND.get(kind, kind) in self.searchable

    def can_verify(self, kind: str) -> bool:
        """May confirm a customer found another way by this exact value, without reading it."""
        return ACCESS_KIND.get(kind, kind) in self.verifiable

    def reads_unmasked(self, path: str) -> bool:
        """Whether the caller reads this customer field as it is (not masked)."""
        return path in self.customer_fields and path not in self.masks

    def customer_source(self) -> list[str]:
        return [*CUSTOMER_ALWAYS, *self.customer_fields]

    def summary_source(self) -> list[str]:
        """customer_source() without the 360 view's detail (CUSTOMER_DETAIL)."""
        return [path for path in self.customer_source() if not path.startswith(CUSTOMER_DETAIL)]

    def record_source(self) -> list[str]:
        return [*RECORD_ALWAYS, *self.record_fields]


# Contact points a marketing use may reach the customer through, per consent purpose (customer and record paths).
CHANNEL_FIELDS = {"marketing_email": ("emails", "email"), "marketing_sms": ("phones", "phone")}


def shown(document: dict[str, Any], access: FieldAccess, consents_of: dict[str, Any] | None = None) -> dict[str, Any]:
    """`document` as the caller may see it: masked, and for a marketing use without the contact
    points the customer did not consent to (`consents_of`: the customer holding the consents, when
    `document` is one of its records)."""
    apply_masks(document, access.masks)
    if access.marketing:
        granted = (consents_of or document).get("consents_granted", [])
        for purpose, paths in CHANNEL_FIELDS.items():
            if purpose not in granted:
                for path in paths:
                    document.pop(path, None)
                document.get("provenance", {}).pop(paths[0], None)
    return document


def apply_masks(document: dict[str, Any], masks: dict[str, MaskName]) -> dict[str, Any]:
    """`document` with every masked path replaced by its masked form (in place, returned).
    A path may lead to a string, a list of strings, or dicts holding the value under "value"."""
    for path, rule in masks.items():
        _mask_path(document, _path_parts(path), MASKS[rule])
    return document


@lru_cache(maxsize=256)
def _path_parts(path: str) -> list[str]:
    return path.split(".")


def _mask_path(node: Any, parts: list[str], mask: Callable[[str], str]) -> None:
    if isinstance(node, list):
        for item in node:
            _mask_path(item, parts, mask)
        return
    if not isinstance(node, dict) or parts[0] not in node:
        return
    if len(parts) > 1:
        _mask_path(node[parts[0]], parts[1:], mask)
        return
    node[parts[0]] = _masked(node[parts[0]], mask)


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_masked(item, mask) for item in value]
    if isinstance(value, dict) and "value" in value:
        return {**value, "value": _masked(value["value"], mask)}
    return value
