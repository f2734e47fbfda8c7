"""Synthetic French customers for the demo, the tests and the benchmarks: the truth behind the records.

Name pools come from Faker (fr_FR first, other origins found in France after); everything else is
drawn from one seeded random generator, so a seed gives the same people on every machine.
Households (same address and family name, different people) and homonyms (same names, different
people) are made on purpose: resolution must never merge them.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from unidecode import unidecode

FRENCH_LOCALES = ("fr_FR", "fr_CA", "fr_CH")
OTHER_LOCALES = ("it_IT", "es_ES", "pt_PT", "ar_AA", "de_DE", "nl_NL")
STREET_TYPES = ("rue", "rue", "rue", "avenue", "boulevard", "place", "allée", "chemin", "impasse", "quai")
MOBILE_PREFIXES = ("6", "7")


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    city: str


@dataclass
class Person:
    person_id: str
    sex: str
    given_name: str
    family_name: str
    birth_name: str | None
    birth_date: date
    email: str | None
    phone: str | None
    address: Address
    previous_address: Address | None = None
    household_id: str | None = None
    homonym_of: str | None = None
    cards: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NamePools:
    family: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]
    domains: tuple[str, ...]


def _provider(kind: str, locale: str) -> Any:
    return importlib.import_module(f"faker.providers.{kind}.{locale}").Provider


def _latin_names(names: list[str]) -> list[str]:
    """Names written in the Latin alphabet (the systems rcu reads store them so)."""
    return [
        name
        for name in dict.fromkeys(names)
        if name.replace("-", "").replace(" ", "").replace("'", "").isalpha() and all(ord(ch) < 0x250 for ch in name)
    ]


@lru_cache(maxsize=1)
def name_pools() -> NamePools:
    from faker import Faker

    french: dict[str, list[str]] = {"family": [], "male": [], "female": []}
    others: dict[str, list[str]] = {"family": [], "male": [], "female": []}
    for locales, pool in ((FRENCH_LOCALES, french), (OTHER_LOCALES, others)):
        for locale in locales:
            provider = _provider("person", locale)
            pool["family"].extend(provider.last_names)
            pool["male"].extend(provider.first_names_male)
            pool["female"].extend(provider.first_names_female)
    faker = Faker("fr_FR")
    faker.seed_instance(7)

    def mix(key: str, french_weight: int) -> tuple[str, ...]:
        # Most customers of a French company carry French names; the other pools are much larger.
        return tuple(_latin_names(french[key]) * french_weight + _latin_names(others[key]))

    cities = []
    for _ in range(2000):
        department = faker.random_element([f"{d:02d}" for d in range(1, 96) if d != 20] + ["971", "972", "974"])
        postcode = department + f"{faker.random_int(0, 999 if len(department) == 2 else 99):0{5 - len(department)}d}"
        cities.append((postcode, faker.city()))
    return NamePools(
        family=mix("family", 8),
        male=mix("male", 15),
        female=mix("female", 15),
        streets=tuple(dict.fromkeys(faker.last_name() if i % 2 else faker.name() for i in range(3000))),
        cities=tuple(cities),
        domains=("gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr", "yahoo.fr", "outlook.fr", "wanadoo.fr"),
    )


class PeopleFactory:
    """Draws people, households and homonyms from one seeded generator."""

    def __init__(self, seed: int = 42) -> None:
        self.rng = random.Random(seed)
        self.pools = name_pools()
        self._emails: set[str] = set()
        self._phones: set[str] = set()
        self._count = 0

    def _id(self) -> str:
        self._count += 1
        return f"P{self._count:07d}"

    def family_name(self) -> str:
        rng = self.rng
        name = rng.choice(self.pools.family)
        roll = rng.random()
        if roll < 0.06:
            return f"{name}-{rng.choice(self.pools.family)}"
        if roll < 0.09:
            return f"{rng.choice(('de', 'Le', 'de La', 'Du'))} {name}"
        return name

    def given_name(self, sex: str) -> str:
        pool = self.pools.male if sex == "M" else self.pools.female
        name = self.rng.choice(pool)
        if self.rng.random() < 0.05:
            name = f"{name}-{self.rng.choice(pool)}"
        return name

    def address(self) -> Address:
        rng = self.rng
        postcode, city = rng.choice(self.pools.cities)
        number = rng.randint(1, 180)
        suffix = rng.choice(("", "", "", "", "", " bis"))
        street = f"{number}{suffix} {rng.choice(STREET_TYPES)} {rng.choice(('', 'de ', 'du ', 'des '))}{rng.choice(self.pools.streets)}"
        return Address(street=street.replace("  ", " "), postcode=postcode, city=city)

    def phone(self) -> str:
        while True:
            number = f"0{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"
            if number not in self._phones and phonenumbers.is_valid_number(phonenumbers.parse(number, "FR")):
                self._phones.add(number)
                return number

    def email(self, given: str, family: str) -> str:
        base = ".".join(unidecode(part).lower().replace(" ", "").replace("'", "") for part in (given, family))
        while True:
            tail = "" if self.rng.random() < 0.5 else str(self.rng.randint(1, 999))
            address = f"{base}{tail}@{self.rng.choice(self.pools.domains)}"
            if address not in self._emails:
                self._emails.add(address)
                return address

    def birth_date(self, oldest: int = 1935, youngest: int = 2006) -> date:
        start = date(oldest, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(youngest, 12, 31) - start).days))

    def person(self) -> Person:
        rng = self.rng
        sex = rng.choice("MF")
        given, family = self.given_name(sex), self.family_name()
        born = self.birth_date()
        birth_name = None
        if sex == "F" and born.year < 1998 and rng.random() < 0.35:
            birth_name, family = family, self.family_name()
        moved = rng.random() < 0.15
        return Person(
            person_id=self._id(),
            sex=sex,
            given_name=given,
            family_name=family,
            birth_name=birth_name,
            birth_date=born,
            email=self.email(given, family) if rng.random() < 0.85 else None,
            phone=self.phone() if rng.random() < 0.9 else None,
            address=self.address(),
            previous_address=self.address() if moved else None,
        )

    def household_member(self, head: Person) -> Person:
        """Someone else at the same address with the same family name: a partner, a child, a parent."""
        sex = self.rng.choice("MF")
        given = self.given_name(sex)
        while given == head.given_name:
            given = self.given_name(sex)
        return replace(
            head,
            person_id=self._id(),
            sex=sex,
            given_name=given,
            birth_name=None,
            birth_date=self.birth_date(),
            email=self.email(given, head.family_name) if self.rng.random() < 0.7 else None,
            phone=self.phone() if self.rng.random() < 0.8 else None,
            household_id=head.household_id,
            homonym_of=None,
            cards={},
        )

    def homonym(self, other: Person) -> Person:
        """Same given and family name, another person: another birth date, elsewhere."""
        twin = self.person()
        born = self.birth_date()
        while born.year == other.birth_date.year:
            born = self.birth_date()
        twin.sex, twin.given_name, twin.family_name, twin.birth_name = other.sex, other.given_name, other.family_name, None
        twin.birth_date = born
        twin.email = self.email(other.given_name, other.family_name) if self.rng.random() < 0.8 else None
        twin.homonym_of = other.person_id
        return twin

    def population(self, count: int) -> list[Person]:
        """`count` people: about 10 % in two-person households, 2 % homonyms of someone else."""
        people: list[Person] = []
        while len(people) < count:
            person = self.person()
            people.append(person)
            roll = self.rng.random()
            if roll < 0.10 and len(people) < count:
                person.household_id = f"H{person.person_id[1:]}"
                people.append(self.household_member(person))
            elif roll < 0.12 and len(people) < count:
                people.append(self.homonym(person))
        return people
