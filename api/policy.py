"""Roles, the fields each may read and search, masks, and API keys: the access policy file
(format in api/demo_policy.toml), turned into the search.access.FieldAccess every query obeys."""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from analyzers.masks import MaskName
from search.access import QUERY_KINDS, FieldAccess, QueryKind
from settings import Settings

Endpoint = Literal[
    "search", "cards", "customers", "records", "audit", "consents", "export", "erase", "rectify", "changes", "review", "events"
]
DEMO_POLICY = Path(__file__).with_name("demo_policy.toml")
# The demo policy's keys, in clear for the demo only (the policy file holds their SHA-256).
DEMO_KEYS = {
    role: f"demo-{role}-key" for role in ("counter", "callcenter", "marketing", "steward", "admin", "integrator", "privacy_officer", "shop")
}
# A demo counter agent at the Lyon 2 shop: its customers rank first among namesakes.
DEMO_SHOP_KEY = "demo-counter-lyon2-key"
# A shop as named in loyalty sources (loyalty_<shop>).
SHOP_PATTERN = r"^[a-z0-9_-]{1,40}$"


@dataclass(frozen=True)
class FieldPaths:
    customer: tuple[str, ...] = ()
    record: tuple[str, ...] = ()
    raw: tuple[str, ...] = ()  # what the source sent, shown only to roles reading the field unmasked
    search: tuple[str, ...] = ()
    highlight: tuple[str, ...] = ()


# Every readable field of the policy, and where it lives in the customers and records indices.
FIELDS: dict[str, FieldPaths] = {
    "names": FieldPaths(
        (
            "given_name",
            "family_name",
            "birth_name",
            "name_variants",
            "civility",
            "provenance.given_name",
            "provenance.family_name",
            "provenance.birth_name",
            "provenance.civility",
        ),
        ("given_name", "family_name", "birth_name", "civility"),
        ("raw.given_name", "raw.family_name", "raw.birth_name", "raw.civility"),
        ("names",),
        ("given_name", "family_name", "birth_name", "name_variants"),
    ),
    "birth_date": FieldPaths(("birth_date", "provenance.birth_date"), ("birth_date",), ("raw.birth_date",), ("birth_date",)),
    "phones": FieldPaths(("phones", "provenance.phones"), ("phone",), ("raw.phone",), ("phone",), ("phones",)),
    "emails": FieldPaths(("emails", "provenance.emails"), ("email",), ("raw.email",), ("email",), ("emails",)),
    "street": FieldPaths(("street", "addresses.street"), ("street",), ("raw.street",)),
    "postcode": FieldPaths(("postcode", "addresses.postcode"), ("postcode",), ("raw.postcode",), ("postcode",), ("postcode",)),
    "city": FieldPaths(("city", "addresses.city"), ("city",), ("raw.city",), ("city",)),
    "loyalty_cards": FieldPaths(("loyalty_cards",), ("loyalty_card",), ("raw.loyalty_card",), ("card",), ("loyalty_cards.card",)),
    "country": FieldPaths((), ("country",), ("raw.country",)),
    "attributes": FieldPaths((), ("attributes",)),
    "quality": FieldPaths((), ("quality",)),
    # Interactions live in their own indices (search.events), not in customer or record fields.
    "interactions": FieldPaths(),
    "figures": FieldPaths(),
}
ReadableField = Literal[
    "names",
    "birth_date",
    "phones",
    "emails",
    "street",
    "postcode",
    "city",
    "loyalty_cards",
    "country",
    "attributes",
    "quality",
    "interactions",
    "figures",
]


class Role(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    endpoints: list[Endpoint]
    read: list[ReadableField]
    search: list[QueryKind] | None = None
    # Kinds the role may check without reading: "Jean Dupont 02/03/1975" finds him for a role that
    # sees only birth years, and nothing tells which part matched.
    verify: list[QueryKind] = Field(default_factory=list)
    masks: dict[ReadableField, MaskName] = Field(default_factory=dict)
    sources: list[SourcePattern] = Field(
        default_factory=list,
        description=(
            "Sources the role is bound to: its keys and tokens may write their records and follow their changes, "
            "unless a key or token narrows them."
        ),
    )
    purpose: Literal["service", "marketing"] = Field(
        default="service", description="marketing: customers who asked for restriction are invisible, refused channels are left out."
    )
    max_customers_per_hour: int | None = Field(
        default=None, ge=1, description="Distinct customers a key of the role may read per hour before it is slowed down and reported."
    )

    @model_validator(mode="after")
    def _masks_on_read_fields(self) -> Role:
        unread = sorted(set(self.masks) - set(self.read))
        if unread:
            raise ValueError(f"masks on fields the role does not read: {', '.join(unread)}")
        return self

    def field_access(self) -> FieldAccess:
        customer: list[str] = []
        record: list[str] = []
        highlight: list[str] = []
        masks: dict[str, MaskName] = {}
        for name in self.read:
            paths = FIELDS[name]
            customer.extend(paths.customer)
            record.extend(paths.record)
            if name in self.masks:
                masks.update((path, self.masks[name]) for path in (*paths.customer, *paths.record))
            else:
                record.extend(paths.raw)
                highlight.extend(paths.highlight)
        # By default a role searches through what it reads in full: searching a field it sees only
        # masked (the birth year of a full date) would let it confirm the hidden value by trial.
        searchable = (
            self.search
            if self.search is not None
            else [kind for name in self.read if name not in self.masks for kind in FIELDS[name].search]
        )
        searched = frozenset(searchable) & frozenset(QUERY_KINDS)
        return FieldAccess(
            tuple(customer),
            tuple(record),
            searched,
            tuple(highlight),
            masks,
            verifiable=frozenset(self.verify) - searched,
            marketing=self.purpose == "marketing",
            interactions="interactions" in self.read,
            figures="figures" in self.read or "interactions" in self.read,
        )


SourcePattern = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-*]+$")]


def may_write_source(patterns: tuple[str, ...] | list[str], source: str) -> bool:
    """Whether a source name (`crm`, `loyalty_paris11`) is one of `patterns` (`crm`, `loyalty_*`, `*`)."""
    return any(fnmatch.fnmatchcase(source.lower(), pattern.lower()) for pattern in patterns)


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sources: list[SourcePattern] | None = Field(
        default=None, description="Sources whose records this key may write (POST /v1/records); the role's when unset."
    )
    shop: str | None = Field(default=None, pattern=SHOP_PATTERN, description="The agent's shop: its own customers rank first.")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, Role]
    keys: list[ApiKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _keys_name_roles(self) -> Policy:
        unknown = sorted({key.role for key in self.keys} - set(self.roles))
        if unknown:
            raise ValueError(f"keys name unknown roles: {', '.join(unknown)}")
        return self

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))

    def key_owner(self, presented: str) -> ApiKey | None:
        """The key's entry, comparing digests in constant time against every key."""
        digest = hash_key(presented)
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.sha256):
                found = key
        return found


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class PolicyRefused(Exception):
    """The API would serve without a real policy, or with the demo one beyond this machine."""


HOW_TO_WRITE_A_POLICY = (
    "rcu serve needs an access policy: copy api/demo_policy.toml (it documents the format), keep the roles you need, "
    "give each key a `sources` list if it pushes records, put `rcu hash-key YOUR-KEY` in each key's sha256, "
    "and point RCU_POLICY at the file. To try rcu with the demo keys printed in the README, pass --demo-policy (loopback only)."
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serving_policy(settings: Settings, demo: bool, host: str) -> Policy:
    """The policy `rcu serve` may serve: RCU_POLICY's, or the demo one when asked for and only on
    loopback (its keys are public). Raises PolicyRefused saying how to write a policy."""
    if settings.policy and not demo:
        return Policy.load(settings.policy)
    if not demo:
        raise PolicyRefused(f"no access policy (RCU_POLICY is not set). {HOW_TO_WRITE_A_POLICY}")
    if not is_loopback(host):
        raise PolicyRefused(
            f"the demo policy's keys are public (README): it is served on loopback only, not on {host}. "
            "Write a policy (RCU_POLICY) to listen beyond this machine."
        )
    return Policy.load(DEMO_POLICY)
