"""Jean Dupont, whom every demo has: the README's and the counter's examples find him ("dup jea",
his phone, his two loyalty cards). Written beside the generated sources by `rcu demo`."""

from __future__ import annotations

from pathlib import Path

import orjson

SHOWCASE = [
    {
        "source": "crm",
        "source_id": "D1",
        "civility": "M.",
        "given_name": "Jean",
        "family_name": "Dupont",
        "birth_date": "1975-03-02",
        "email": "jean.dupont@free.fr",
        "phone": "06 11 22 33 44",
        "street": "5 rue des Lilas",
        "postcode": "33000",
        "city": "Bordeaux",
        "updated_at": "2026-04-01T10:00:00Z",
    },
    {
        "source": "loyalty_bordeaux",
        "source_id": "D2",
        "civility": "M.",
        "given_name": "JEAN",
        "family_name": "DUPONT",
        "phone": "0611223344",
        "loyalty_card": "2905555555555",
        "postcode": "33000",
        "city": "Bordeaux",
        "updated_at": "2026-05-01T10:00:00Z",
    },
    {
        "source": "loyalty_nantes",
        "source_id": "D3",
        "given_name": "Jean",
        "family_name": "Dupont",
        "phone": "+33 6 11 22 33 44",
        "loyalty_card": "2906666666666",
        "updated_at": "2025-05-01T10:00:00Z",
    },
]


def write_showcase(folder: Path) -> Path:
    path = folder / "showcase.jsonl"
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in SHOWCASE))
    return path
