"""What one caller may read and search, as index paths: the API builds it from the access policy,
every query in search/ takes it, so a field a role may not read is never fetched from OpenSearch,
never highlighted and never searched on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
    "consents_refused",
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

    def consent_filter(self, kinds: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Filter clauses every customer query of this caller carries (none for a service use): no
        restricted customer, and for each query kind in `kinds` (what the query searches or verifies)
        only customers whose contact point of that kind marketing may see (CONTACT_POINTS): a
        customer who refused post is not found by his postcode, which would confirm it."""
        if not self.marketing:
            return []
        used = {ACCESS_KIND.get(kind, kind) for kind in kinds}
        points = [point.visible_clause() for point in CONTACT_POINTS if used & set(point.kinds)]
        return [{"bool": {"must_not": [{"term": {"restricted": True}}]}}, *points]

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


@dataclass(frozen=True)
class ContactPoint:
    """A way to reach the customer and the marketing purposes that use it: marketing sees it only
    when none of them is refused and, for an opt-in one, one of them is granted."""

    purposes: tuple[str, ...]
    opt_in: bool
    paths: tuple[str, ...]  # customer and record paths ("raw.x": what the source sent)
    kinds: tuple[str, ...]  # query kinds that search or verify it
    highlights: tuple[str, ...]  # highlight keys of a look-up hit

    def visible(self, customer: dict[str, Any]) -> bool:
        if set(self.purposes) & set(customer.get("consents_refused") or ()):
            return False
        return not self.opt_in or bool(set(self.purposes) & set(customer.get("consents_granted") or ()))

    def visible_clause(self) -> dict[str, Any]:
        """visible() as a filter clause on the customers index."""
        clause: dict[str, Any] = {"must_not": [{"terms": {"consents_refused": list(self.purposes)}}]}
        if self.opt_in:
            clause["filter"] = [{"terms": {"consents_granted": list(self.purposes)}}]
        return {"bool": clause}


# The one home of what each marketing consent hides, applied by every read of a marketing role
# (search, cards, households, the 360 view and its records, the steward's files) through shown()
# and consent_filter(). E-mails and SMS are opt-in (CNIL, L.34-5 CPCE): a granted consent is needed.
# A phone number serves SMS and calls: a refusal of either hides it. Post is opt-out (CNIL: postal
# prospection is allowed unless the person objected): a refusal hides the whole postal address,
# current and past, which marketing otherwise reads for its counts by town.
CONTACT_POINTS = (
    ContactPoint(("marketing_email",), True, ("emails", "provenance.emails", "email", "raw.email"), ("email",), ("emails",)),
    ContactPoint(
        ("marketing_sms", "marketing_phone"), True, ("phones", "provenance.phones", "phone", "raw.phone"), ("phone",), ("phones",)
    ),
    ContactPoint(
        ("marketing_post",),
        False,
        (
            *("street", "postcode", "city", "provenance.street", "provenance.postcode", "provenance.city"),
            *("addresses.street", "addresses.postcode", "addresses.city", "raw.street", "raw.postcode", "raw.city"),
        ),
        ("postcode", "city"),
        ("postcode", "city"),
    ),
)


@dataclass(frozen=True)
class MarketingChannel:
    """A way marketing reaches the customer (segment exports, next best actions), through one
    contact point: usable only while that point is visible to marketing (CONTACT_POINTS) and the
    customer asked for no restriction; an opt-in point's channel also needs its own purpose granted
    (a consent to calls is no consent to SMS, CPCE L.34-5), an opt-out one none (post)."""

    name: str
    purpose: str
    point: ContactPoint

    def usable(self, customer: dict[str, Any]) -> bool:
        if customer.get("restricted") or not self.point.visible(customer):
            return False
        return not self.point.opt_in or self.purpose in (customer.get("consents_granted") or ())

    def usable_clauses(self) -> list[dict[str, Any]]:
        """usable() as filter clauses on the customers or profiles index."""
        clauses = [{"bool": {"must_not": [{"term": {"restricted": True}}]}}, self.point.visible_clause()]
        if self.point.opt_in:
            clauses.append({"term": {"consents_granted": self.purpose}})
        return clauses


def _point_of(purpose: str) -> ContactPoint:
    return next(point for point in CONTACT_POINTS if purpose in point.purposes)


# Every marketing channel, derived from CONTACT_POINTS: the same consents hide a contact point and
# close the channels through it (refusing calls closes SMS too; post is open unless refused).
MARKETING_CHANNELS = {
    name: MarketingChannel(name, purpose, _point_of(purpose))
    for name, purpose in (("email", "marketing_email"), ("sms", "marketing_sms"), ("phone", "marketing_phone"), ("post", "marketing_post"))
}
CHANNEL_PURPOSES = {name: channel.purpose for name, channel in MARKETING_CHANNELS.items()}


def purpose_clauses(purpose: str) -> list[dict[str, Any]]:
    """Filter clauses for a use that needs `purpose`: a channel's purpose by its channel's rule
    (MarketingChannel), any other (profiling, partner sharing) granted."""
    for channel in MARKETING_CHANNELS.values():
        if channel.purpose == purpose:
            return channel.usable_clauses()
    return [{"term": {"consents_granted": purpose}}]


def hidden_contact_points(access: FieldAccess, customer: dict[str, Any]) -> list[ContactPoint]:
    """The contact points of `customer` a marketing caller may not see (none for a service use)."""
    return [point for point in CONTACT_POINTS if not point.visible(customer)] if access.marketing else []


def shown(document: dict[str, Any], access: FieldAccess, consents_of: dict[str, Any] | None = None) -> dict[str, Any]:
    """`document` as the caller may see it: masked, and for a marketing use without the contact
    points the customer did not consent to (`consents_of`: the customer holding the consents, when
    `document` is one of its records)."""
    apply_masks(document, access.masks)
    for point in hidden_contact_points(access, consents_of or document):
        for path in point.paths:
            _drop_path(document, _path_parts(path))
    return document


def matched_kind(query_name: str) -> str:
    """The query kind a named query of a look-up stands for: its name up to ":" ("city:typo1": a
    town word typed with a typo). OpenSearch reports one query per name, the last, so clauses that
    may match apart (each word's town clause, the exact town's bonus) need names of their own."""
    return query_name.partition(":")[0]


def matched_through_hidden(matched: Iterable[str], access: FieldAccess, customer: dict[str, Any]) -> bool:
    """Whether a look-up hit matched (its named queries: "city" for a town typed among the names)
    through a contact point the caller may not see: showing it would confirm the hidden value."""
    hidden = {kind for point in hidden_contact_points(access, customer) for kind in point.kinds}
    return bool(hidden) and any(ACCESS_KIND.get(kind, kind) in hidden for kind in map(matched_kind, matched))


def shown_highlights(highlights: dict[str, list[str]], access: FieldAccess, customer: dict[str, Any]) -> dict[str, list[str]]:
    """A look-up hit's highlights without those of contact points the caller may not see."""
    hidden = {key for point in hidden_contact_points(access, customer) for key in point.highlights}
    return {key: value for key, value in highlights.items() if key not in hidden} if hidden else highlights


def _drop_path(node: Any, parts: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _drop_path(item, parts)
        return
    if not isinstance(node, dict) or parts[0] not in node:
        return
    if len(parts) > 1:
        _drop_path(node[parts[0]], parts[1:])
    else:
        del node[parts[0]]


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
