"""People whose records exercise the customer's rights: consents from several sources, a person to
erase with records in four systems, and a neighbour who must stay untouched."""

from __future__ import annotations

CAMILLE = [  # two sources disagree on e-mail marketing; the newer one (a refusal) wins
    {
        "source": "crm",
        "source_id": "CG1",
        "given_name": "Camille",
        "family_name": "Garnier",
        "birth_date": "1988-04-12",
        "email": "camille.garnier@laposte.net",
        "phone": "0677889900",
        "postcode": "59800",
        "city": "Lille",
        "updated_at": "2025-01-10T09:00:00Z",
        "consents": [
            {"purpose": "marketing_email", "status": "granted", "at": "2025-01-10T09:00:00Z"},
            {"purpose": "marketing_sms", "status": "granted", "at": "2025-01-10T09:00:00Z"},
        ],
    },
    {
        "source": "ecommerce",
        "source_id": "CG2",
        "given_name": "Camille",
        "family_name": "GARNIER",
        "birth_date": "12/04/1988",
        "email": "camille.garnier@laposte.net",
        "postcode": "59800",
        "city": "Lille",
        "updated_at": "2026-02-01T09:00:00Z",
        "consents": [{"purpose": "marketing_email", "status": "refused", "at": "2026-02-01T09:00:00Z"}],
    },
]
BASTIEN = [  # consents to everything: marketing reaches him
    {
        "source": "crm",
        "source_id": "BR1",
        "given_name": "Bastien",
        "family_name": "Rolland",
        "birth_date": "1979-09-30",
        "email": "bastien.rolland@gmail.com",
        "phone": "0655443322",
        "postcode": "59800",
        "city": "Lille",
        "updated_at": "2025-03-01T09:00:00Z",
        "consents": [
            {"purpose": "marketing_email", "status": "granted", "at": "2025-03-01T09:00:00Z"},
            {"purpose": "marketing_sms", "status": "granted", "at": "2025-03-01T09:00:00Z"},
        ],
    },
]
# Ten records of one person across four systems, to erase.
GASPARD_IDENTIFIERS = {
    "email": "gaspard.vernet@wanadoo.fr",
    "phone": "0633221100",
    "phone_e164": "+33633221100",
    "card": "2907777777777",
    "names": ("Gaspard", "Vernet"),
}
GASPARD = [
    {
        "source": source,
        "source_id": f"GV{i}",
        "given_name": "Gaspard" if i % 3 else "GASPARD",
        "family_name": "Vernet",
        "birth_date": "1966-11-02",
        "email": GASPARD_IDENTIFIERS["email"],
        "phone": "06 33 22 11 00",
        "loyalty_card": GASPARD_IDENTIFIERS["card"] if source.startswith("loyalty") else None,
        "street": "8 rue des Tanneurs",
        "postcode": "67000",
        "city": "Strasbourg",
        "updated_at": f"2025-0{1 + i % 9}-01T09:00:00Z",
    }
    for i, source in enumerate(
        [
            "crm",
            "crm",
            "ecommerce",
            "ecommerce",
            "ecommerce",
            "loyalty_strasbourg",
            "loyalty_strasbourg",
            "callcenter",
            "callcenter",
            "legacy",
        ]
    )
]
NEIGHBOUR = [  # same street and town as Gaspard, another person: untouched by his erasure
    {
        "source": "crm",
        "source_id": "NV1",
        "given_name": "Odile",
        "family_name": "Vernet",
        "birth_date": "1970-02-14",
        "email": "odile.vernet@free.fr",
        "street": "8 rue des Tanneurs",
        "postcode": "67000",
        "city": "Strasbourg",
        "updated_at": "2025-05-01T09:00:00Z",
    },
]
RIGHTS_PEOPLE = CAMILLE + BASTIEN + GASPARD + NEIGHBOUR
