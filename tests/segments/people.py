"""Customers whose records exercise segments and next best actions: distinct people (other names,
birth dates, towns), so each is one customer."""

from __future__ import annotations

from typing import Any

GRANTED_ALL = [
    {"purpose": p, "status": "granted", "at": "2026-01-05T10:00:00Z"} for p in ("marketing_email", "marketing_sms", "marketing_phone")
]


def person(key: str, given: str, family: str, born: str, town: str, postcode: str, **extra: Any) -> dict[str, Any]:
    return {
        "source": "crm",
        "source_id": key,
        "given_name": given,
        "family_name": family,
        "birth_date": born,
        "email": f"{given.lower()}.{family.lower()}@exemple.fr",
        "street": f"{len(key) + 3} rue des Tilleuls",
        "postcode": postcode,
        "city": town,
        "updated_at": "2026-01-05T10:00:00Z",
        **extra,
    }


# Loyal-to-be: five visits in the year, the sixth purchase makes her "client fidèle".
LOYAL = person("SG1", "Octavie", "Brunelle", "1979-03-14", "Nantes", "44000", consents=GRANTED_ALL)
# Already holds the premium card (subscription event in the tests): never proposed it.
HOLDER = person("SG2", "Gaspard", "Vauquelin", "1971-09-02", "Rennes", "35000", consents=GRANTED_ALL)
# Refused e-mail marketing: in segments, never exported for e-mail, never proposed by e-mail.
NO_EMAIL = person(
    "SG3",
    "Honorine",
    "Delacroix",
    "1985-06-21",
    "Tours",
    "37000",
    consents=[*GRANTED_ALL[1:], {"purpose": "marketing_email", "status": "refused", "at": "2026-02-01T10:00:00Z"}],
)
# Asked for restriction: gone from marketing, still at the counter.
RESTRICTED = person(
    "SG4",
    "Lucien",
    "Marchetti",
    "1968-11-30",
    "Dijon",
    "21000",
    consents=[*GRANTED_ALL, {"purpose": "restriction", "status": "requested", "at": "2026-03-01T10:00:00Z"}],
)
# Refuses and then stays held back for the cooldown.
REFUSER = person("SG5", "Perrine", "Aubertin", "1990-01-17", "Metz", "57000", consents=GRANTED_ALL)
# Her visits arrive in an events file (`rcu ingest`).
FROM_FILE = person("SG6", "Mathilde", "Ferrandier", "1983-08-08", "Caen", "14000", consents=GRANTED_ALL)
PEOPLE = [LOYAL, HOLDER, NO_EMAIL, RESTRICTED, REFUSER, FROM_FILE]


def senior(source_id: str, given: str, family: str, consents: list[tuple[str, str]]) -> dict[str, Any]:
    """A senior (pushed by the tests, not ingested) with a phone, an e-mail and a postal address, and these consent statements."""
    return {
        "source": "ecommerce",
        "source_id": source_id,
        "given_name": given,
        "family_name": family,
        "birth_date": "1949-04-07",
        "email": f"{given.lower()}.{family.lower()}@exemple.fr",
        "phone": f"06 77 88 99 {len(source_id) + int(source_id[-1]):02d}",
        "street": "4 rue des Ormes",
        "city": "Lannion",
        "postcode": "22300",
        "updated_at": "2026-11-01T10:00:00Z",
        "consents": [{"purpose": p, "status": s, "at": "2026-11-01T10:00:00Z"} for p, s in consents],
    }


# Seniors whose consents the channels' one rule (search.access.MARKETING_CHANNELS) decides.
CALLS_REFUSED = senior("SG-CH-1", "Eudoxie", "Kerbrat", [("marketing_sms", "granted"), ("marketing_phone", "refused")])
POST_SILENT = senior("SG-CH-2", "Firmin", "Le Goarnig", [("marketing_sms", "granted"), ("marketing_phone", "granted")])
POST_REFUSED = senior("SG-CH-3", "Gwenola", "Trémeur", [("marketing_sms", "granted"), ("marketing_post", "refused")])


def record_id(record: dict[str, Any]) -> str:
    return f"{record['source']}:{record['source_id']}"
