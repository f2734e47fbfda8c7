"""The people of the steward's tests: namesakes a steward must judge, a customer to split, and two
pairs of records that a later record links — one a steward keeps apart, one left to the matcher."""

from __future__ import annotations

from typing import Any

from tests.stories import namesakes

# Two people sharing a rare name, and records holding the name alone (tests.stories.namesakes).
QUESNOY = namesakes("Ombeline", "Quesnoy", "Q")


def _person(prefix: str, given: str, family: str) -> list[dict[str, Any]]:
    """One person in two systems that share nothing but the name: a possible match at most."""
    return [
        {
            "source": "crm",
            "source_id": f"{prefix}1",
            "given_name": given,
            "family_name": family,
            "birth_date": "1985-03-12",
            "phone": "06 11 22 33 01" if prefix == "V" else "06 11 22 33 02",
            "postcode": "59000",
            "city": "Lille",
            "updated_at": "2026-01-10T10:00:00Z",
        },
        {
            "source": "ecommerce",
            "source_id": f"{prefix}2",
            "given_name": given,
            "family_name": family,
            "email": f"{given.lower()}.{family.lower()}@exemple.fr",
            "postcode": "33000",
            "city": "Bordeaux",
            "updated_at": "2026-01-12T10:00:00Z",
        },
    ]


def linking_record(prefix: str, given: str, family: str) -> dict[str, Any]:
    """A call-center record holding both sides' identifiers: strong evidence they are one person."""
    first, second = _person(prefix, given, family)
    return {
        "source": "callcenter",
        "source_id": f"{prefix}9",
        "given_name": given,
        "family_name": family,
        "birth_date": first["birth_date"],
        "phone": first["phone"],
        "email": second["email"],
        "updated_at": "2026-02-01T10:00:00Z",
    }


VASSEUR = _person("V", "Léonie", "Vasseur")  # kept apart by a steward in the tests
FONTAN = _person("F", "Maëlys", "Fontan")  # left to the matcher: the control
# A customer of three records, one of them another person's (a shared family card).
BERTHIER = [
    {
        "source": "crm",
        "source_id": "B1",
        "given_name": "Arsène",
        "family_name": "Berthier",
        "birth_date": "1962-07-04",
        "phone": "06 55 44 33 21",
        "email": "arsene.berthier@exemple.fr",
        "updated_at": "2026-01-05T10:00:00Z",
    },
    {
        "source": "ecommerce",
        "source_id": "B2",
        "given_name": "Arsène",
        "family_name": "Berthier",
        "birth_date": "1962-07-04",
        "email": "arsene.berthier@exemple.fr",
        "updated_at": "2026-01-06T10:00:00Z",
    },
    {
        "source": "loyalty_lyon2",
        "source_id": "B3",
        "given_name": "Arsène",
        "family_name": "Berthier",
        "phone": "06 55 44 33 21",
        "loyalty_card": "2901234567897",
        "updated_at": "2026-01-07T10:00:00Z",
    },
]
# One person whose two records disagree on the birth date (two digits swapped): joined on the
# phone and e-mail they share, an identity conflict for the steward.
LEMOINE = [
    {
        "source": "crm",
        "source_id": "L1",
        "given_name": "Gaspard",
        "family_name": "Lemoine",
        "birth_date": "1970-05-12",
        "phone": "06 72 81 90 13",
        "email": "gaspard.lemoine@exemple.fr",
        "updated_at": "2026-01-03T10:00:00Z",
    },
    {
        "source": "ecommerce",
        "source_id": "L2",
        "given_name": "Gaspard",
        "family_name": "Lemoine",
        "birth_date": "1970-05-21",
        "phone": "06 72 81 90 13",
        "email": "gaspard.lemoine@exemple.fr",
        "updated_at": "2026-01-04T10:00:00Z",
    },
]
# A customer and a call noted with their rare name and town only: joined (no one else fits the
# name), on names alone — an item for the steward.
GUILLERM = [
    {
        "source": "crm",
        "source_id": "G1",
        "given_name": "Théophane",
        "family_name": "Guillerm",
        "birth_date": "1991-09-30",
        "phone": "06 48 27 19 55",
        "postcode": "29000",
        "city": "Quimper",
        "updated_at": "2026-01-08T10:00:00Z",
    },
    {
        "source": "callcenter",
        "source_id": "G2",
        "given_name": "Théophane",
        "family_name": "Guillerm",
        "city": "Quimper",
        "updated_at": "2026-01-09T10:00:00Z",
    },
]
STEWARD_PEOPLE = QUESNOY + VASSEUR + FONTAN + BERTHIER + LEMOINE + GUILLERM
