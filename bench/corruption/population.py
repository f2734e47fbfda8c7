"""The population: households, homonyms and each person's timeline, drawn from one seeded generator.

The timeline is built backwards from today: each person's present values are drawn first; then,
over the window of `timeline_years`, moves, new mobiles, a wanadoo.fr → orange.fr switch, other
e-mail changes and marriages happen at random dates, and the values before each event are drawn.
With a window of zero years every system sees the person as they are today.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from itertools import accumulate, combinations
from typing import TypeVar

from bench.corruption.geography import Address, Geography
from bench.corruption.knobs import Knobs
from bench.corruption.people import TODAY, Person, Population, Timeline, ascii_word
from bench.corruption.vocabulary import EMAIL_PROVIDERS, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES, family_names_by_rank, zipf_weights

GIVEN_NAME_SKEW = 0.8
# Events per person-year over the timeline window.
MOVES_PER_YEAR, NEW_MOBILES_PER_YEAR, NEW_EMAILS_PER_YEAR, MARRIAGES_PER_YEAR = 0.09, 0.07, 0.04, 0.05
WANADOO_LEFT_PER_YEAR = 0.15  # an orange.fr user who was on wanadoo.fr: the switch's rate
MEAN_HOUSEHOLD_SIZE = 2.8
SHARED_EMAIL_SHARE = 0.05  # couples writing one family address everywhere
LANDLINE_SHARE = 0.4

T = TypeVar("T")


class PeopleFactory:
    def __init__(self, knobs: Knobs, rng: random.Random) -> None:
        self.knobs, self.rng = knobs, rng
        self.geography = Geography(rng)
        self.window_start = TODAY - timedelta(days=round(365.25 * knobs.timeline_years))
        self.families = family_names_by_rank()
        self.family_weights = zipf_weights(len(self.families), knobs.name_skew)
        self.family_cumulative = list(accumulate(self.family_weights))
        self.rank = {name: rank for rank, name in enumerate(self.families)}
        self.given = {"M": MALE_GIVEN_NAMES, "F": FEMALE_GIVEN_NAMES}
        self.given_cumulative = {sex: list(accumulate(zipf_weights(len(names), GIVEN_NAME_SKEW))) for sex, names in self.given.items()}
        self.used_emails: set[str] = set()
        self.used_mobiles: set[str] = set()
        self.people: list[Person] = []

    # Draws
    def family_name(self) -> str:
        return self.rng.choices(self.families, cum_weights=self.family_cumulative)[0]

    def given_name(self, sex: str, avoid: tuple[str, ...] = ()) -> str:
        while True:
            name = self.rng.choices(self.given[sex], cum_weights=self.given_cumulative[sex])[0]
            if name not in avoid:
                return name

    def birth_date(self, earliest: int = 1935, latest: int = 2006) -> date:
        start = date(earliest, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(latest, 12, 31) - start).days))

    def event_dates(self, per_year: float) -> list[date]:
        """Dates of events inside the window, as many as a Poisson process at `per_year` gives."""
        days = (TODAY - self.window_start).days
        count, threshold, product = 0, math.exp(-per_year * days / 365.25), self.rng.random()
        while product > threshold:
            count += 1
            product *= self.rng.random()
        return sorted(self.window_start + timedelta(days=self.rng.randrange(1, days + 1)) for _ in range(count)) if days else []

    def changes(self, per_year: float, present: T, earlier: Callable[[], T]) -> Timeline[T]:
        """`present` today, and an `earlier()` value before each event of the window."""
        dates = self.event_dates(per_year)
        values = [earlier() for _ in dates] + [present]
        return Timeline(list(zip([date.min, *dates], values, strict=True)))

    def mobile(self) -> str:
        number = self.geography.mobile(self.rng.random() < self.knobs.unverifiable_phone_share)
        while number in self.used_mobiles:  # the next free number: no extra draw, so knobs do not shift the stream
            number = f"{int(number) + 1:010d}"
        self.used_mobiles.add(number)
        return number

    def email(self, given: str, family: str, birth: date, provider: str | None = None) -> str:
        g, f = ascii_word(given), ascii_word(family)
        local = self.rng.choice(
            (
                f"{g}.{f}",
                f"{g[0]}{f}",
                f"{g}{f}",
                f"{f}.{g}",
                f"{g}.{f}{self.rng.randint(1, 99)}",
                f"{g}_{f}",
                f"{f}{birth.year}",
                f"{g}{birth.year % 100:02d}",
            )
        )
        provider = provider or self.rng.choices([p for p, _ in EMAIL_PROVIDERS], [w for _, w in EMAIL_PROVIDERS])[0]
        address = f"{local}@{provider}"
        while address in self.used_emails:
            address = f"{local}{self.rng.randint(1, 999)}@{provider}"
        self.used_emails.add(address)
        return address

    def emails(self, given: str, family: str, birth: date) -> Timeline[str]:
        if self.rng.random() < 0.12:
            return Timeline([(date.min, "")])
        present = self.email(given, family, birth)
        local, _, provider = present.partition("@")
        timeline = self.changes(NEW_EMAILS_PER_YEAR, present, lambda: self.email(given, family, birth))
        if provider == "orange.fr" and self.rng.random() < 0.5:
            switched = self.event_dates(WANADOO_LEFT_PER_YEAR)
            if switched:  # the same mailbox under its old name until the switch
                old = f"{local}@wanadoo.fr"
                self.used_emails.add(old)
                timeline.changes = [
                    (start, old if start < switched[0] and value == present else value) for start, value in timeline.changes
                ]
                timeline.changes.append((switched[0], present))
                timeline.changes.sort(key=lambda change: change[0])
        return timeline

    # People
    def person(
        self,
        sex: str,
        family: str,
        home: Timeline[Address],
        birth: date,
        given: str | None = None,
        household: str = "",
        landline: Timeline[str] | None = None,
    ) -> Person:
        given = given or self.given_name(sex)
        mobiles = self.changes(NEW_MOBILES_PER_YEAR, self.mobile(), self.mobile)
        person = Person(
            f"P{len(self.people) + 1:06d}",
            sex,
            given,
            family,
            birth,
            home,
            mobiles,
            self.emails(given, family, birth),
            landline or Timeline([(date.min, "")]),
            household,
        )
        self.people.append(person)
        return person

    def home(self) -> tuple[Timeline[Address], Timeline[str]]:
        """An address timeline, and the landline that goes with each address (or none)."""
        addresses = self.changes(MOVES_PER_YEAR, self.geography.address(), self.geography.address)
        wired = self.rng.random() < LANDLINE_SHARE
        lines = [(start, self.geography.landline(address.postcode) if wired else "") for start, address in addresses.changes]
        return addresses, Timeline(lines)

    def single(self) -> None:
        home, landline = self.home()
        sex = self.rng.choice("MF")
        self.person(sex, self.family_name(), home, self.birth_date(), landline=landline if self.rng.random() < 0.5 else None)

    def household(self, number: int) -> None:
        """A couple sharing the husband's family name, and their children (twins sometimes)."""
        household = f"H{number:05d}"
        family = self.family_name()
        home, landline = self.home()
        husband_birth = self.birth_date(1935, 1995)
        husband = self.person("M", family, home, husband_birth, household=household, landline=landline)
        wife_birth = husband_birth + timedelta(days=self.rng.randint(-2500, 2500))
        wife = self.person("F", family, home, min(wife_birth, date(2006, 12, 31)), household=household, landline=landline)
        self.marry(wife, husband)
        children = self.rng.choice((0, 0, 1, 1, 2, 2, 3))
        twins = children >= 2 and self.rng.random() < self.knobs.twin_share
        earliest = max(husband.birth_date, wife.birth_date).year + 20
        births = [self.birth_date(min(earliest, 2005), 2008) for _ in range(children)]
        if twins:
            births[1] = births[0]
        names: tuple[str, ...] = (husband.given, wife.given)
        for birth in births:
            sex = self.rng.choice("MF")
            given = self.given_name(sex, avoid=names)
            # A son named after his father (drawn only when the knob is on: the baseline's draws unchanged).
            share = self.knobs.father_namesake_share
            if sex == "M" and share and husband.given not in names[2:] and self.rng.random() < share:
                given = husband.given
            child = self.person(sex, family, home, birth, given, household=household, landline=landline)
            names += (child.given,)
        if self.rng.random() < SHARED_EMAIL_SHARE and husband.emails.at(TODAY):
            wife.emails = husband.emails

    def marry(self, wife: Person, husband: Person) -> None:
        wife.maiden = self.family_name()
        while wife.maiden == wife.family:
            wife.maiden = self.family_name()
        married = self.event_dates(MARRIAGES_PER_YEAR)
        wife.married_on = married[0] if married else date.min
        if married:  # before the wedding she lived elsewhere, under her own name
            own_home = self.geography.address()
            wife.addresses = Timeline(
                [
                    (date.min, own_home),
                    *[(s, a) for s, a in husband.addresses.changes if s >= married[0]],
                    (married[0], husband.addresses.at(married[0])),
                ]
            )
            wife.addresses.changes.sort(key=lambda change: change[0])
            wife.landline = Timeline(
                [
                    (date.min, ""),
                    (married[0], husband.landline.at(married[0])),
                    *[(s, n) for s, n in husband.landline.changes if s > married[0]],
                ]
            )
            maiden_email = self.email(wife.given, wife.maiden, wife.birth_date)
            wife.emails = Timeline(
                [
                    (date.min, maiden_email),
                    *[(s, e) for s, e in wife.emails.changes[1:] if s > married[0]],
                    (married[0], wife.emails.at(TODAY)),
                ]
            )
            wife.emails.changes.sort(key=lambda change: change[0])

    def namesakes(self) -> None:
        """Give `homonym_rate` of the people living alone the full name of another person of their
        sex, chosen by the frequency of the family name: common names get more namesakes."""
        by_sex = {sex: [p for p in self.people if p.sex == sex] for sex in "MF"}
        weights = {sex: list(accumulate(self.family_weights[self.rank[p.family]] for p in people)) for sex, people in by_sex.items()}
        for person in [p for p in self.people if not p.household]:
            if self.rng.random() >= self.knobs.homonym_rate:
                continue
            model = self.rng.choices(by_sex[person.sex], cum_weights=weights[person.sex])[0]
            if model is not person:
                person.given, person.family = model.given, model.family
                person.emails = self.emails(person.given, person.family, person.birth_date)


def _homonym_pairs(people: list[Person]) -> list[tuple[str, str]]:
    by_name: dict[tuple[str, str], list[Person]] = defaultdict(list)
    for person in people:
        by_name[(ascii_word(person.given), ascii_word(person.family))].append(person)
    pairs = []
    for namesakes in by_name.values():
        for a, b in combinations(namesakes, 2):
            if not (a.household and a.household == b.household):
                pairs.append((a.person_id, b.person_id))
    return pairs


def build_population(knobs: Knobs, rng: random.Random) -> Population:
    factory = PeopleFactory(knobs, rng)
    share = knobs.household_share
    starts_household = share / (MEAN_HOUSEHOLD_SIZE - (MEAN_HOUSEHOLD_SIZE - 1) * share) if share < 1 else 1.0
    households = 0
    while len(factory.people) < knobs.people:
        if rng.random() < starts_household:
            households += 1
            factory.household(households)
        else:
            factory.single()
    factory.people = factory.people[: knobs.people]
    factory.namesakes()
    people = factory.people
    return Population(people, {p.person_id: p.household for p in people if p.household}, _homonym_pairs(people))
