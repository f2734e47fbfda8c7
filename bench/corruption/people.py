"""People as they are, over time: what a person is, and the dated values systems see of them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from bench.corruption.geography import Address

TODAY = date(2026, 11, 27)

T = TypeVar("T")


@dataclass
class Timeline(Generic[T]):
    """Values from a date on: `at(day)` is the last value that started on or before `day`."""

    changes: list[tuple[date, T]]

    def at(self, day: date) -> T:
        current = self.changes[0][1]
        for start, value in self.changes:
            if start <= day:
                current = value
        return current


@dataclass
class Person:
    person_id: str
    sex: str  # "M" or "F"
    given: str
    family: str  # the name used today (a married woman's married name)
    birth_date: date
    addresses: Timeline[Address]
    mobiles: Timeline[str]
    emails: Timeline[str]
    landline: Timeline[str]
    household: str = ""
    maiden: str = ""  # a married woman's birth name
    married_on: date | None = None

    def family_at(self, day: date) -> str:
        return self.maiden if self.married_on is not None and day < self.married_on else self.family

    def birth_name_at(self, day: date) -> str:
        return self.maiden if self.married_on is not None and day >= self.married_on else ""


@dataclass
class Population:
    people: list[Person]
    households: dict[str, str] = field(default_factory=dict)  # person id → household id
    homonyms: list[tuple[str, str]] = field(default_factory=list)  # pairs of people sharing a full name, not a household


def ascii_word(text: str) -> str:
    """ "Lefèvre Da-Silva" → "lefevredasilva": what people write in an e-mail address."""
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in bare if ch.isalnum())


@dataclass(frozen=True)
class Snapshot:
    """A person as one system saw them on one day: the values it holds before its own errors."""

    given: str
    family: str
    birth_name: str
    sex: str
    birth_date: date
    address: Address
    mobile: str
    landline: str
    email: str


def snapshot(person: Person, day: date) -> Snapshot:
    return Snapshot(
        person.given,
        person.family_at(day),
        person.birth_name_at(day),
        person.sex,
        person.birth_date,
        person.addresses.at(day),
        person.mobiles.at(day),
        person.landline.at(day),
        person.emails.at(day),
    )
