"""`rcu demo-data`: people rendered as the records of a CRM, an e-commerce site, one loyalty program
per shop, a call center and a legacy CSV export, each with its own habits and flaws, plus the truth.

Written to OUT: one `<source>.jsonl` per JSON source, `legacy.csv` (Latin-1, `;`) with
`legacy.mapping.toml`, and the ground truth `truth.tsv` (source, source_id, person_id) and
`persons.tsv` (person_id, household_id, homonym_of), which `rcu ingest OUT` skips.
"""

from __future__ import annotations

import contextlib
import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from indexers.demo.imperfections import DATE_FORMATS, drop_accents, format_date, format_phone, mishear, typo
from indexers.demo.people import PeopleFactory, Person

SHOPS = ("paris11", "lyon2", "lille", "nantes", "bordeaux")
NOTES = (
    "Réclamation livraison",
    "Demande de remboursement",
    "Changement d'adresse",
    "Question sur la carte de fidélité",
    "Rappeler le matin",
)
LEGACY_COLUMNS = {
    "NUM_CLIENT": "source_id",
    "CIVILITE": "civility",
    "NOM": "family_name",
    "PRENOM": "given_name",
    "NOM_JEUNE_FILLE": "birth_name",
    "DATE_NAISS": "birth_date",
    "TEL": "phone",
    "ADRESSE": "street",
    "CP": "postcode",
    "VILLE": "city",
    "MAJ": "updated_at",
}


@dataclass(frozen=True)
class SourceProfile:
    """How one system holds people: who is in it and what goes wrong when they are typed in."""

    name: str
    share: float
    duplicates: float = 0.0
    upper: float = 0.0
    no_accents: float = 0.0
    typo: float = 0.0
    misheard: float = 0.0
    swapped: float = 0.0
    maiden: float = 0.0
    old_address: float = 0.0
    has_email: float = 1.0
    has_phone: float = 1.0
    has_birth_date: float = 1.0
    has_address: float = 1.0
    bad_value: float = 0.003
    date_formats: tuple[str, ...] = DATE_FORMATS


PROFILES = (
    SourceProfile("crm", 0.6, duplicates=0.02, typo=0.02, no_accents=0.1, maiden=0.1, old_address=0.3),
    SourceProfile("ecommerce", 0.5, duplicates=0.05, no_accents=0.5, typo=0.04, upper=0.05, has_birth_date=0.4, has_phone=0.6),
    SourceProfile(
        "callcenter", 0.2, misheard=0.35, typo=0.1, swapped=0.1, no_accents=0.3, has_email=0.3, has_birth_date=0.5, has_address=0.3
    ),
    SourceProfile(
        "legacy", 0.3, upper=0.7, no_accents=0.6, typo=0.05, maiden=0.5, old_address=0.8, has_email=0.0, date_formats=("%d/%m/%Y",)
    ),
)
LOYALTY = SourceProfile(
    "loyalty",
    0.0,
    duplicates=0.01,
    upper=0.6,
    no_accents=0.6,
    typo=0.08,
    misheard=0.1,
    swapped=0.05,
    has_email=0.4,
    has_birth_date=0.3,
    has_address=0.5,
)


class RecordRenderer:
    """Turns a person into one source record the way a given system would have it."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.ids: dict[str, int] = {}

    def next_id(self, source: str) -> str:
        self.ids[source] = self.ids.get(source, 0) + 1
        return f"{source[:3].upper()}{self.ids[source]:08d}"

    def _name(self, name: str, profile: SourceProfile) -> str:
        rng = self.rng
        if rng.random() < profile.misheard:
            name = mishear(name, rng)
        if rng.random() < profile.typo:
            name = typo(name, rng)
        if rng.random() < profile.no_accents:
            name = drop_accents(name)
        return name.upper() if rng.random() < profile.upper else name

    def _when(self, old: bool) -> datetime:
        days = self.rng.randrange(900, 2500) if old else self.rng.randrange(0, 900)
        return self.now - timedelta(days=days, seconds=self.rng.randrange(86400))

    def render(self, person: Person, profile: SourceProfile, source: str) -> dict[str, Any]:
        rng = self.rng
        family = person.birth_name if person.birth_name and rng.random() < profile.maiden else person.family_name
        given, family = self._name(person.given_name, profile), self._name(family, profile)
        if rng.random() < profile.swapped:
            given, family = family, given
        old = person.previous_address is not None and rng.random() < profile.old_address
        address = person.previous_address if old and person.previous_address else person.address
        record: dict[str, Any] = {
            "source": source,
            "source_id": self.next_id(source),
            "updated_at": self._when(old).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "civility": "M." if person.sex == "M" else "Mme",
            "given_name": given,
            "family_name": family,
        }
        if person.birth_name and family != person.birth_name and rng.random() < 0.5:
            record["birth_name"] = person.birth_name
        if rng.random() < profile.has_birth_date:
            record["birth_date"] = format_date(person.birth_date, rng, profile.date_formats)
        if person.email and rng.random() < profile.has_email:
            record["email"] = person.email.upper() if rng.random() < 0.05 else person.email
        if person.phone and rng.random() < profile.has_phone:
            record["phone"] = format_phone(person.phone, rng)
        if rng.random() < profile.has_address:
            record.update(street=address.street, postcode=address.postcode, city=address.city)
        if source == "callcenter":
            record["note"] = rng.choice(NOTES)
        self._spoil(record, profile)
        return record

    def _spoil(self, record: dict[str, Any], profile: SourceProfile) -> None:
        """Rarely, a value no normalizer can save: an impossible date, a phone too short, a broken e-mail."""
        roll = self.rng.random()
        if roll < profile.bad_value and "birth_date" in record:
            record["birth_date"] = f"31/02/{self.rng.randint(1940, 2000)}"
        elif roll < 2 * profile.bad_value and "phone" in record:
            record["phone"] = record["phone"][:5]
        elif roll < 3 * profile.bad_value and "email" in record:
            record["email"] = record["email"].split("@")[0] + "@"


def _records_of(person: Person, renderer: RecordRenderer, rng: random.Random) -> Iterator[tuple[SourceProfile, str, dict[str, Any]]]:
    for profile in PROFILES:
        if rng.random() < profile.share:
            copies = 2 if rng.random() < profile.duplicates else 1
            for _ in range(copies):
                yield profile, profile.name, renderer.render(person, profile, profile.name)
    roll = rng.random()
    shops = rng.sample(SHOPS, 2 if roll < 0.15 else 1) if roll < 0.6 else []
    for shop in shops:
        source = f"loyalty_{shop}"
        card = person.cards.setdefault(shop, f"29{SHOPS.index(shop)}{rng.randrange(10**9, 10**10)}")
        copies = 2 if rng.random() < LOYALTY.duplicates else 1
        for _ in range(copies):
            record = renderer.render(person, LOYALTY, source)
            record["loyalty_card"] = card if rng.random() < 0.9 else " ".join(card[i : i + 4] for i in range(0, len(card), 4))
            yield LOYALTY, source, record


def _legacy_row(record: dict[str, Any]) -> list[str]:
    # The legacy export knows the day of the last update, not the time.
    values = {**record, "updated_at": record["updated_at"][:10]}
    return [str(values.get(field, "")) for field in LEGACY_COLUMNS.values()]


def write_demo_data(out: Path, persons: int, seed: int = 42, now: datetime | None = None) -> dict[str, int]:
    """Generate `persons` people and their records under `out`; returns records written per source."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 1)
    renderer = RecordRenderer(rng, now or datetime(2026, 11, 1, tzinfo=UTC))
    people = PeopleFactory(seed).population(persons)
    counts: dict[str, int] = {}
    streams: dict[str, Any] = {}
    legacy_path = out / "legacy.csv"
    with (
        open(legacy_path, "w", encoding="latin-1", errors="replace", newline="") as legacy_file,
        open(out / "truth.tsv", "w") as truth,
        open(out / "persons.tsv", "w") as persons_file,
    ):
        legacy = csv.writer(legacy_file, delimiter=";")
        legacy.writerow(LEGACY_COLUMNS.keys())
        truth.write("source\tsource_id\tperson_id\n")
        persons_file.write("person_id\thousehold_id\thomonym_of\tgiven_name\tfamily_name\tbirth_date\n")
        with contextlib.ExitStack() as jsonl_files:
            for person in people:
                persons_file.write(
                    f"{person.person_id}\t{person.household_id or ''}\t{person.homonym_of or ''}\t{person.given_name}\t{person.family_name}\t{person.birth_date.isoformat()}\n"
                )
                for _profile, source, record in _records_of(person, renderer, rng):
                    counts[source] = counts.get(source, 0) + 1
                    truth.write(f"{source}\t{record['source_id']}\t{person.person_id}\n")
                    if source == "legacy":
                        legacy.writerow(_legacy_row(record))
                        continue
                    if source not in streams:
                        streams[source] = jsonl_files.enter_context(open(out / f"{source}.jsonl", "wb"))
                    streams[source].write(orjson.dumps(record) + b"\n")
    (out / "legacy.mapping.toml").write_text(
        'source = "legacy"\ndelimiter = ";"\nencoding = "latin-1"\ndate_format = "%d/%m/%Y"\n\n[columns]\n'
        + "".join(f'{column} = "{field}"\n' for column, field in LEGACY_COLUMNS.items())
    )
    return counts
