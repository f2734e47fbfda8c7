"""Source systems: who each one holds, on which date it saw them, and what it gets wrong.

A CRM typed by sales staff, an e-commerce site typed by customers themselves, one loyalty
program per shop typed at the till, a call center that hears names over the phone, and a legacy
export, old, in capitals and scanned in part. Each record is one person's snapshot on the system's
date (bench.corruption.people), damaged by that system's error model (bench.corruption.typos).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.corruption import formats
from bench.corruption.knobs import Knobs
from bench.corruption.people import TODAY, Person, Snapshot, snapshot
from bench.corruption.typos import (
    TYPING_ERRORS,
    initial,
    ocr_confusion,
    partial_given,
    phonetic_variant,
    truncated,
    without_accents,
)
from bench.corruption.vocabulary import NICKNAMES

FIELDS = ("birth_date", "email", "phone", "street", "postcode", "city", "civility")


@dataclass(frozen=True)
class Channel:
    """One source system's habits. `holds` is the chance a field is filled when the person has it."""

    name: str
    presence: float  # share of people the system holds
    holds: dict[str, float]
    seen: tuple[float, float] = (0.0, 1.0)  # the part of the timeline window its snapshots come from
    duplicates: float = 0.0  # a person held twice
    typos: float = 1.0  # multiplies Knobs.typo_rate
    phonetic: float = 0.1  # share of its typos that are phonetic spellings (heard, not read)
    ocr: float = 0.0  # share of its typos that are OCR confusions (scanned forms)
    initials: float = 1.0  # multiplies Knobs.initials_share
    capitals: float = 0.05  # share typed all in capitals (accents lost)
    lower: float = 0.05  # share typed all in lower case
    landline_first: bool = False
    narrow_fields: bool = False  # names cut to Knobs.legacy_field_width characters
    card_prefix: str = ""  # loyalty programs: each shop prints its own cards


def _holds(birth_date: float, email: float, phone: float, street: float, postcode: float, city: float, civility: float) -> dict[str, float]:
    return dict(zip(FIELDS, (birth_date, email, phone, street, postcode, city, civility), strict=True))


SHOPS = ("paris", "lyon", "lille", "nantes", "marseille")
CHANNELS: tuple[Channel, ...] = (
    Channel("crm", 0.55, _holds(0.85, 0.8, 0.85, 0.9, 0.95, 0.95, 0.9), duplicates=0.04, capitals=0.1),
    Channel("ecommerce", 0.45, _holds(0.35, 1.0, 0.7, 0.95, 0.98, 0.95, 0.6), seen=(0.5, 1.0), duplicates=0.08, typos=1.3, lower=0.3),
    *(
        Channel(f"loyalty_{shop}", 0.12, _holds(0.5, 0.4, 0.5, 0.3, 0.9, 0.5, 0.5), typos=1.6, initials=2.0, card_prefix=f"29{n}")
        for n, shop in enumerate(SHOPS)
    ),
    Channel("callcenter", 0.22, _holds(0.4, 0.3, 0.95, 0.5, 0.8, 0.6, 0.7), typos=1.2, phonetic=0.6, initials=1.5),
    Channel(
        "legacy",
        0.30,
        _holds(0.9, 0.1, 0.7, 0.85, 0.95, 0.95, 0.95),
        seen=(0.0, 0.3),
        typos=1.0,
        ocr=0.5,
        capitals=0.9,
        lower=0.0,
        landline_first=True,
        narrow_fields=True,
    ),
)


@dataclass(frozen=True)
class RenderedRecord:
    payload: dict[str, Any]  # in rcu's ingestion contract
    person_id: str
    seen_on: date


class Renderer:
    """Turns people into the records of every system, from one seeded generator."""

    def __init__(self, knobs: Knobs, seed: int) -> None:
        self.knobs, self.seed = knobs, seed
        self.rng = random.Random(seed)
        self.window_days = round(365.25 * knobs.timeline_years)
        self.counters: dict[str, int] = {}

    def records(self, people: list[Person]) -> list[RenderedRecord]:
        """Each person's systems, and each record's errors, come from their own random stream: a
        knob that changes how records are damaged leaves who is in which system as it was."""
        records: list[RenderedRecord] = []
        for person in people:
            held_by = random.Random(f"{self.seed}/{person.person_id}")
            held = [channel for channel in CHANNELS if held_by.random() < channel.presence] or [CHANNELS[0]]
            for channel in held:
                copies = 2 if held_by.random() < channel.duplicates else 1
                for copy in range(copies):
                    self.rng = random.Random(f"{self.seed}/{person.person_id}/{channel.name}/{copy}")
                    records.append(self.record(person, channel))
        return records

    def seen_on(self, channel: Channel) -> date:
        low, high = channel.seen
        return TODAY - timedelta(days=round(self.window_days * (1 - self.rng.uniform(low, high))))

    def record(self, person: Person, channel: Channel) -> RenderedRecord:
        day = self.seen_on(channel)
        snap = snapshot(person, day)
        self.counters[channel.name] = number = self.counters.get(channel.name, 0) + 1
        style = self.case_style(channel)
        given, family, birth_name = self.names(snap, channel, style)
        payload: dict[str, Any] = {
            "source": channel.name,
            "source_id": f"{channel.name[:3].upper()}{number:06d}",
            "given_name": given,
            "family_name": family,
            "birth_name": birth_name or None,
        }
        payload.update(self.other_fields(snap, channel, style))
        if channel.card_prefix:
            payload["loyalty_card"] = f"{channel.card_prefix}{self.rng.randrange(10**10):010d}"
        if self.rng.random() < self.knobs.sparse_share:
            payload = self.sparse(payload)
        moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=self.rng.randrange(86_400))
        payload["updated_at"] = moment.isoformat().replace("+00:00", "Z")
        return RenderedRecord({k: v for k, v in payload.items() if v}, person.person_id, day)

    def names(self, snap: Snapshot, channel: Channel, style: str) -> tuple[str, str, str]:
        knobs, rng = self.knobs, self.rng
        given, family = snap.given, snap.family
        birth_name = snap.birth_name if channel.name in ("crm", "legacy") and rng.random() < 0.6 else ""
        if snap.birth_name and rng.random() < knobs.maiden_share:
            family, birth_name = snap.birth_name, ""
        if given in NICKNAMES and rng.random() < knobs.nickname_share * channel.initials:
            given = rng.choice(NICKNAMES[given])
        if rng.random() < knobs.initials_share * channel.initials:
            given, family = self.partial(given, family)
        given, family = self.typo(given, channel), self.typo(family, channel)
        if rng.random() < knobs.swap_share:
            given, family = family, given
        if channel.narrow_fields and knobs.legacy_field_width:
            given, family = given[: knobs.legacy_field_width], family[: knobs.legacy_field_width]
        return cased(given, style), cased(family, style), cased(birth_name, style)

    def partial(self, given: str, family: str) -> tuple[str, str]:
        """An initial ("J. Dupont", "C Roux"), a composed name's first part, or a cut name."""
        roll = self.rng.random()
        if roll < 0.55:
            return initial(given, self.rng), family
        if roll < 0.8:
            return (partial_given(given), family) if "-" in given else (truncated(given, self.rng), family)
        return given, truncated(family, self.rng)

    def typo(self, name: str, channel: Channel) -> str:
        if self.rng.random() >= self.knobs.typo_rate * channel.typos:
            return name
        errors = 2 if self.rng.random() < 0.15 else 1
        for _ in range(errors):
            roll = self.rng.random()
            damage: Callable[..., str] = (
                phonetic_variant
                if roll < channel.phonetic
                else ocr_confusion
                if roll < channel.phonetic + channel.ocr
                else self.rng.choice(TYPING_ERRORS)
            )
            name = damage(name, self.rng, self.knobs.typo_first_letter)
        return name

    def case_style(self, channel: Channel) -> str:
        """One record is typed one way: in capitals (accents lost), in lower case, or as written."""
        roll = self.rng.random()
        return "capitals" if roll < channel.capitals else "lower" if roll < channel.capitals + channel.lower else "as written"

    def other_fields(self, snap: Snapshot, channel: Channel, style: str) -> dict[str, str]:
        knobs, rng = self.knobs, self.rng
        keep = {f: rng.random() >= (1 - channel.holds[f]) * knobs.missing_rate for f in FIELDS}
        slip = knobs.typo_rate * channel.typos
        values: dict[str, str] = {}
        if keep["birth_date"]:
            born = formats.slip_date(snap.birth_date, rng) if rng.random() < slip / 3 else snap.birth_date
            values["birth_date"] = formats.write_date(born, rng.choice(formats.DATE_FORMATS))
        if keep["email"] and snap.email:
            local, _, domain = snap.email.partition("@")
            if rng.random() < slip / 4 and len(local) > 3:
                local = rng.choice(TYPING_ERRORS)(local, rng)
            values["email"] = f"{local}@{domain}".upper() if rng.random() < 0.05 else f"{local}@{domain}"
        phones = [p for p in ((snap.landline, snap.mobile) if channel.landline_first else (snap.mobile, snap.landline)) if p]
        if keep["phone"] and phones:
            number = phones[0] if rng.random() < 0.85 else phones[-1]
            number = formats.slip_digit(number, rng) if rng.random() < slip / 4 else number
            unverifiable = number.startswith(("070", "071", "072", "0693", "0694"))
            # Unverifiable numbers come written the national way (an overseas mobile typed without +262).
            styles = ("spaced", "plain", "dotted") if unverifiable else formats.PHONE_FORMATS
            values["phone"] = formats.write_phone(number, rng.choice(styles))
        if keep["street"]:
            street = formats.write_street(snap.address.street, rng)
            values["street"] = cased(street, style)
        if keep["postcode"]:
            values["postcode"] = snap.address.postcode
        if keep["city"]:
            values["city"] = cased(snap.address.town, style)
        if keep["civility"]:
            values["civility"] = formats.write_civility(snap.sex, rng)
        return values

    def sparse(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Names and one other field (and a loyalty record's own card)."""
        others = [f for f in ("postcode", "phone", "email", "birth_date", "city") if payload.get(f)]
        kept = {f: payload[f] for f in ("source", "source_id", "given_name", "family_name", "loyalty_card") if payload.get(f)}
        if others:
            chosen = self.rng.choice(others)
            kept[chosen] = payload[chosen]
        return kept


def cased(text: str, style: str) -> str:
    if style == "capitals":
        return without_accents(text).upper()
    return text.lower() if style == "lower" else text
