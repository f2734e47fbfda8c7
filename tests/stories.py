"""People whose records tell the stories the tests check: one person with every flaw, her household, homonyms, a card alone, a placeholder e-mail, and Jean Dupont at the counter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indexers.demo.showcase import SHOWCASE

HELENE = [
    {
        "source": "crm",
        "source_id": "H1",
        "civility": "Mme",
        "given_name": "Hélène",
        "family_name": "Lefèvre",
        "birth_name": "Martin",
        "birth_date": "17/05/1980",
        "email": "helene.lefevre@orange.fr",
        "phone": "0612345678",
        "street": "12 av. Jean Jaurès",
        "postcode": "75011",
        "city": "Paris",
        "updated_at": "2026-03-01T10:00:00Z",
    },
    {
        "source": "ecommerce",
        "source_id": "H2",
        "given_name": "HELENE",
        "family_name": "LEFEVRE",
        "email": "Helene.Lefevre@orange.fr",
        "street": "12 avenue Jean Jaures",
        "postcode": "75011",
        "city": "PARIS",
        "updated_at": "2025-11-01T10:00:00Z",
    },
    {
        "source": "callcenter",
        "source_id": "H3",
        "given_name": "Lefebvre",
        "family_name": "Hélène",
        "phone": "06 12 34 56 78",
        "note": "Réclamation livraison",
        "updated_at": "2025-06-01T10:00:00Z",
    },
    {
        "source": "loyalty_lyon2",
        "source_id": "H4",
        "civility": "Mme",
        "given_name": "Helene",
        "family_name": "Lefevbre",
        "phone": "+33612345678",
        "loyalty_card": "2901234567890",
        "postcode": "69002",
        "city": "Lyon",
        "updated_at": "2024-01-01T10:00:00Z",
    },
    {
        "source": "legacy",
        "source_id": "H5",
        "civility": "Mme",
        "given_name": "HELENE",
        "family_name": "MARTIN",
        "birth_date": "1980-05-17",
        "street": "3 r. de la Paix",
        "postcode": "69002",
        "city": "Lyon",
        "updated_at": "2019-01-01T10:00:00Z",
    },
]
OTHERS = [
    # Her husband and her daughter: same address, same family name.
    {
        "source": "crm",
        "source_id": "M1",
        "civility": "M.",
        "given_name": "Marc",
        "family_name": "Lefèvre",
        "birth_date": "03/02/1978",
        "phone": "0698765432",
        "street": "12 av. Jean Jaurès",
        "postcode": "75011",
        "city": "Paris",
        "updated_at": "2026-03-01T10:00:00Z",
    },
    {
        "source": "loyalty_paris11",
        "source_id": "L1",
        "civility": "Mme",
        "given_name": "Léa",
        "family_name": "Lefèvre",
        "street": "12 avenue Jean Jaurès",
        "postcode": "75011",
        "city": "Paris",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    # Another Hélène Lefèvre, born elsewhere and earlier.
    {
        "source": "crm",
        "source_id": "X1",
        "civility": "Mme",
        "given_name": "Hélène",
        "family_name": "Lefèvre",
        "birth_date": "20/01/1955",
        "email": "helene.lefevre@gmail.com",
        "postcode": "44000",
        "city": "Nantes",
        "updated_at": "2026-01-01T10:00:00Z",
    },
    # A card scanned at a till, nothing else known.
    {"source": "loyalty_lille", "source_id": "C1", "loyalty_card": "2909999999999", "updated_at": "2026-01-01T10:00:00Z"},
]
# Two women named Julie-Émilie Cosendey, who never met, and a call about "Julie-Émilie Cosendey"
# noted with her name and birth date only: it may join one of them, never both.
COSENDEY = [
    {
        "source": "ecommerce",
        "source_id": "J1",
        "given_name": "Julie-Émilie",
        "family_name": "Cosendey",
        "email": "julie-emilie.cosendey958@outlook.fr",
        "phone": "0739508884",
        "street": "117 rue Éléonore Blot",
        "postcode": "38000",
        "city": "Grenoble",
        "updated_at": "2026-01-01T10:00:00Z",
    },
    {
        "source": "loyalty_paris11",
        "source_id": "J2",
        "given_name": "Julie Emilie",
        "family_name": "COSENDEY",
        "phone": "07 39 50 88 84",
        "loyalty_card": "2906302399028",
        "street": "117 rue Eleonore Blot",
        "postcode": "38000",
        "city": "Grenoble",
        "updated_at": "2025-01-01T10:00:00Z",
    },
    {
        "source": "ecommerce",
        "source_id": "J3",
        "given_name": "Julie-Émilie",
        "family_name": "Cosendey",
        "email": "julie-emilie.cosendey@laposte.net",
        "street": "153 rue Édouard Moreno",
        "postcode": "21000",
        "city": "Dijon",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "loyalty_lille",
        "source_id": "J4",
        "given_name": "Julie-Emilie",
        "family_name": "Cosendey",
        "email": "julie-emilie.cosendey@laposte.net",
        "loyalty_card": "2922298787986",
        "street": "153 rue Edouard Moreno",
        "postcode": "21000",
        "city": "Dijon",
        "updated_at": "2025-02-01T10:00:00Z",
    },
    {
        "source": "callcenter",
        "source_id": "J5",
        "given_name": "Julie Émilie",
        "family_name": "Cosendey",
        "birth_date": "04/12/1999",
        "updated_at": "2026-03-01T10:00:00Z",
    },
]
PLACEHOLDER = [
    {
        "source": "callcenter",
        "source_id": f"T{i}",
        "given_name": given,
        "family_name": family,
        "email": "test@test.fr",
        "updated_at": "2026-01-01T10:00:00Z",
    }
    for i, (given, family) in enumerate(
        [
            (g, f)
            for g in ("Paul", "Anne", "Louis", "Claire", "Hugo", "Emma", "Jules", "Chloé")
            for f in ("Moreau", "Girard", "Roux", "Fournier", "Lambert", "Bonnet", "Mercier", "Faure")
        ]
    )
]

DUPONT = SHOWCASE  # the demo's Jean Dupont, whom the API and counter tests look up
# Names whose words also make up someone else's compound name: the one whose given and family
# names are exactly the words typed must come first.
WHOLE_NAMES = [
    {
        "source": "crm",
        "source_id": "W1",
        "given_name": "Pascal",
        "family_name": "Chevrolet",
        "postcode": "31000",
        "city": "Toulouse",
        "updated_at": "2026-01-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "W2",
        "given_name": "Meik",
        "family_name": "Chevrolet-Pascal",
        "postcode": "13001",
        "city": "Marseille",
        "updated_at": "2026-01-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "W3",
        "given_name": "Agathe",
        "family_name": "Arana",
        "postcode": "64100",
        "city": "Bayonne",
        "updated_at": "2026-01-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "W4",
        "given_name": "Charlotte-Agathe",
        "family_name": "Arana",
        "postcode": "64200",
        "city": "Biarritz",
        "updated_at": "2026-01-01T10:00:00Z",
    },
]


def namesakes(given: str, family: str, prefix: str) -> list[dict[str, str]]:
    """Two people with one rare full name and no birth date on file — one in Paris, one in
    Marseille, each with a mobile of their own — and three records holding the name alone (two
    calls noted with the name, a card from a third shop): evidence for either of them, for neither
    in particular."""

    def record(source: str, number: int, **fields: str) -> dict[str, str]:
        return {
            "source": source,
            "source_id": f"{prefix}{number}",
            "given_name": given,
            "family_name": family,
            "updated_at": "2026-02-01T10:00:00Z",
            **fields,
        }

    return [
        record("crm", 1, phone="0645123987", street="5 rue des Lilas", postcode="75011", city="Paris"),
        record("loyalty_paris11", 2, phone="06 45 12 39 87", loyalty_card="2907777777771", postcode="75011", city="Paris"),
        record("ecommerce", 3, phone="0788554433", street="40 boulevard Longchamp", postcode="13001", city="Marseille"),
        record("loyalty_marseille", 4, phone="07 88 55 44 33", loyalty_card="2908888888882", postcode="13001", city="Marseille"),
        record("callcenter", 5, note="Rappel demandé"),
        record("callcenter", 6, note="Question sur une commande"),
        record("loyalty_lille", 7, loyalty_card="2909999999993"),
    ]


# The two people (records 1-2 and 3-4) and the name-only records (5-7) of namesakes().
NAMESAKES = namesakes("Ombeline", "Quesnoy", "Q")


# What agents actually type (issue 17): first letters misheard or swapped, towns beside names, a
# name that is also a town, and namesakes of whom one holds the Lyon 2 shop's card.
AT_THE_COUNTER = [
    {
        "source": "crm",
        "source_id": "T1",
        "given_name": "Marine",
        "family_name": "Perret",
        "birth_date": "11/06/1984",
        "postcode": "75015",
        "city": "Paris",
    },
    {
        "source": "crm",
        "source_id": "T2",
        "given_name": "Roland",
        "family_name": "Pascal-Ruiz",
        "birth_date": "30/09/1969",
        "postcode": "06000",
        "city": "Nice",
    },
    {
        "source": "crm",
        "source_id": "T3",
        "given_name": "Gabriel",
        "family_name": "Morvan",
        "birth_date": "14/02/1991",
        "postcode": "29200",
        "city": "Brest",
    },
    {
        "source": "crm",
        "source_id": "T4",
        "given_name": "Guillaume",
        "family_name": "Kerbrat",
        "birth_date": "01/12/1977",
        "postcode": "29000",
        "city": "Quimper",
    },
    {
        "source": "crm",
        "source_id": "T5",
        "given_name": "Filipe",
        "family_name": "Santos",
        "birth_date": "04/04/1988",
        "postcode": "69003",
        "city": "Lyon",
    },
    {
        "source": "crm",
        "source_id": "T6",
        "given_name": "Noémie",
        "family_name": "Lyon",
        "birth_date": "19/08/1993",
        "postcode": "35000",
        "city": "Rennes",
    },
    {
        "source": "crm",
        "source_id": "S1",
        "given_name": "Solène",
        "family_name": "Quintard",
        "birth_date": "10/01/1970",
        "postcode": "33000",
        "city": "Bordeaux",
    },
    {
        "source": "crm",
        "source_id": "S2",
        "given_name": "Solène",
        "family_name": "Quintard",
        "birth_date": "22/05/1982",
        "postcode": "59000",
        "city": "Lille",
    },
    {
        # A birth name besides: without a shop named, her namesakes' shorter names score a little higher.
        "source": "loyalty_lyon2",
        "source_id": "S3",
        "given_name": "Solène",
        "family_name": "Quintard",
        "birth_name": "Fontaine-Delacroix",
        "birth_date": "07/07/1990",
        "loyalty_card": "2901111222233",
        "postcode": "69002",
        "city": "Lyon",
    },
]
AT_THE_COUNTER = [{**record, "updated_at": "2026-02-01T10:00:00Z"} for record in AT_THE_COUNTER]


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# What the look-up learned in its second pass (issue 17): a birth date that ranks, towns and dates
# any record holds, a name spelled otherwise in every record, the shop's recent visitors first.
RANKED_AND_RECENT = [
    # Three namesakes; the call center, who searches birth dates, types one of theirs.
    {
        "source": "crm",
        "phone": "06 51 20 30 40",
        "source_id": "RB1",
        "given_name": "Aurélien",
        "family_name": "Berthaud",
        "birth_date": "1961-04-09",
        "postcode": "81000",
        "city": "Albi",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "RB2",
        "given_name": "Aurélien",
        "family_name": "Berthaud",
        "birth_date": "1983-11-23",
        "postcode": "13001",
        "city": "Marseille",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "RB3",
        "given_name": "Aurélien",
        "family_name": "Berthaud",
        "postcode": "67000",
        "city": "Strasbourg",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    # The Albi Berthaud lived in Toulouse: an older record of the same customer says so, with his
    # birth date month first.
    {
        "source": "ecommerce",
        "phone": "06 51 20 30 40",
        "source_id": "RB4",
        "given_name": "Aurélien",
        "family_name": "Berthaud",
        "birth_date": "1961-09-04",
        "email": "a.berthaud@laposte.net",
        "postcode": "31000",
        "city": "Toulouse",
        "updated_at": "2024-02-01T10:00:00Z",
    },
    # Every record of her spells her given name otherwise than she says it ("rn" for "m").
    {
        "source": "crm",
        "source_id": "RQ1",
        "given_name": "Rnichèle",
        "family_name": "Quéméner",
        "birth_date": "1958-06-30",
        "postcode": "29200",
        "city": "Brest",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    # "roche et" begins both: his names in the counter's order (family first), hers the other way.
    {
        "source": "crm",
        "source_id": "RF1",
        "given_name": "Ethan",
        "family_name": "Rocheteau",
        "birth_date": "1988-02-11",
        "postcode": "44000",
        "city": "Nantes",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "RF2",
        "given_name": "Rochelle",
        "family_name": "Etchegaray",
        "birth_date": "1990-07-21",
        "postcode": "64100",
        "city": "Bayonne",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    # Two Lyon 2 cardholders of the same name: one seen there last week, one two years ago.
    {
        "source": "loyalty_lyon2",
        "source_id": "RY1",
        "given_name": "Yannick",
        "family_name": "Le Goff",
        "birth_date": "1979-01-15",
        "loyalty_card": "2907777000011",
        "postcode": "69002",
        "city": "Lyon",
        "updated_at": _days_ago(700),
    },
    {
        "source": "loyalty_lyon2",
        "source_id": "RY2",
        "given_name": "Yannick",
        "family_name": "Le Goff",
        "birth_date": "1992-08-03",
        "loyalty_card": "2907777000022",
        "postcode": "69007",
        "city": "Lyon",
        "updated_at": _days_ago(5),
    },
]


# Typed given name first ("s quillévéré"): Solenn's names begin with the words in that order;
# Maëlle's S is her maiden name's (Salaün), which her three records write three ways.
GIVEN_FIRST = [
    {
        "source": "crm",
        "source_id": "GF1",
        "given_name": "Solenn",
        "family_name": "Quillévéré",
        "birth_date": "1984-10-02",
        "postcode": "29000",
        "city": "Quimper",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    *(
        {
            "source": source,
            "source_id": f"GF{n}",
            "given_name": "Maëlle",
            "family_name": family,
            "birth_name": birth_name,
            "birth_date": "1962-05-19",
            "email": "maelle.quillevere@orange.fr",
            "postcode": "29200",
            "city": "Brest",
            "updated_at": "2026-02-01T10:00:00Z",
        }
        for n, (source, family, birth_name) in enumerate(
            (("crm", "Quillévéré", "Salaün"), ("ecommerce", "Quillévéré-Salaün", ""), ("legacy", "Quilleveré", "Salaun")), start=2
        )
    ),
]


# "gwenola lorient": two Gwenola Le Bihan; one lives in Lorient, the other moved from there to
# Vannes (her older e-commerce record, which spells her Gwénola, still says Lorient: two spellings,
# her names score a little higher).
LIVES_THERE_NOW = [
    {
        "source": "crm",
        "source_id": "LT1",
        "given_name": "Gwenola",
        "family_name": "Le Bihan",
        "birth_date": "1971-03-08",
        "postcode": "56100",
        "city": "Lorient",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    *(
        {
            "source": source,
            "source_id": f"LT{n}",
            "given_name": given,
            "family_name": "Le Bihan",
            "birth_date": "1990-12-24",
            "email": "gwenola.lebihan@free.fr",
            "postcode": postcode,
            "city": city,
            "updated_at": updated_at,
        }
        for n, (source, given, postcode, city, updated_at) in enumerate(
            (
                ("ecommerce", "Gwénola", "56100", "Lorient", "2023-05-01T10:00:00Z"),
                ("crm", "Gwenola", "56000", "Vannes", "2026-02-01T10:00:00Z"),
            ),
            start=2,
        )
    ),
]


# "enora saint-aubin": two Enora Le Gall; one lives in Saint-Aubin, the other in
# Saint-Aubin-du-Cormier, a town holding the words typed (her two records spell her two ways: her
# names score a little higher).
WHOLE_TOWN = [
    {
        "source": "crm",
        "source_id": "WT1",
        "given_name": "Enora",
        "family_name": "Le Gall",
        "birth_date": "1968-06-14",
        "postcode": "22000",
        "city": "Saint-Aubin",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    *(
        {
            "source": source,
            "source_id": f"WT{n}",
            "given_name": given,
            "family_name": "Le Gall",
            "birth_date": "1993-01-30",
            "email": "enora.legall@laposte.net",
            "postcode": "35140",
            "city": "Saint-Aubin-du-Cormier",
            "updated_at": "2026-02-01T10:00:00Z",
        }
        for n, (source, given) in enumerate((("crm", "Enora"), ("ecommerce", "Énora")), start=2)
    ),
]


# "Hervé Gourvec" as the agent hears it: the first tier (one typo in a 7-letter word) finds only
# Hervé Gourvez, a look-alike; the person's records spell him "Gouvrek", two edits away.
LOOK_ALIKES = [
    {
        "source": "crm",
        "source_id": "LA1",
        "given_name": "Hervé",
        "family_name": "Gourvez",
        "birth_date": "1957-03-22",
        "postcode": "29000",
        "city": "Quimper",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "LA2",
        "given_name": "Hervé",
        "family_name": "Gouvrek",
        "birth_date": "1979-10-05",
        "postcode": "56100",
        "city": "Lorient",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# "PaccotN-guyen Aimée": a letter swapped across the hyphen leaves a typo in each part, one after
# the first letter ("paccotn"), one in the first letters ("guyen").
EACH_PART_A_TYPO = [
    {
        "source": "crm",
        "source_id": "EP1",
        "given_name": "Aimée",
        "family_name": "Paccot-Nguyen",
        "birth_date": "1971-08-14",
        "postcode": "69003",
        "city": "Lyon",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# "y maxence": an initial typed first is the given name's ("Y. Maxence"), although Maxence is also
# a given name and the counter types family names first ("Maxence Yaouanc" would otherwise read as
# family "Y…", given "Maxence").
INITIAL_FIRST = [
    {
        "source": "crm",
        "source_id": "IF1",
        "given_name": "Yvonnick",
        "family_name": "Maxence",
        "birth_date": "1966-03-12",
        "postcode": "35000",
        "city": "Rennes",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "IF2",
        "given_name": "Maxence",
        "family_name": "Yaouanc",
        "birth_date": "1990-07-21",
        "postcode": "22000",
        "city": "Saint-Brieuc",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# An order form that took only the given name's initial ("T. Guillerm"), beside a namesake whose
# records spell it out: the counter types the whole name the customer gives ("Thérèse Guillerm").
INITIAL_ONLY = [
    {
        "source": "crm",
        "source_id": "IO1",
        "given_name": "Thérèse",
        "family_name": "Guillerm",
        "birth_date": "1958-05-14",
        "postcode": "29000",
        "city": "Quimper",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "ecommerce",
        "source_id": "IO2",
        "given_name": "T.",
        "family_name": "Guillerm",
        "birth_date": "1993-10-02",
        "postcode": "56100",
        "city": "Lorient",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# A mobile number in a range not yet allocated (libphonenumber refuses "07 20…"): every agent still
# reads ten digits starting with 0 as a phone (issue 17).
UNVERIFIED_PHONE = [
    {
        "source": "ecommerce",
        "source_id": "UP1",
        "given_name": "Gwladys",
        "family_name": "Kerhervé",
        "phone": "07 20 65 09 81",
        "birth_date": "1987-01-30",
        "postcode": "29200",
        "city": "Brest",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]


# "moal la" (type-ahead: a family name begun, then a given name's first two letters): Laurène Moalic
# is the one these letters begin; Rémi Moal's family name is the first word whole, and "La" is only
# his town's article (La Forêt-Fouesnant) — which must not earn him the town's bonus.
TOWN_ARTICLE = [
    {
        "source": "crm",
        "source_id": "TA1",
        "given_name": "Laurène",
        "family_name": "Moalic",
        "birth_date": "1984-06-02",
        "postcode": "29000",
        "city": "Quimper",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "TA2",
        "given_name": "Rémi",
        "family_name": "Moal",
        "birth_date": "1958-10-17",
        "postcode": "29940",
        "city": "La Forêt-Fouesnant",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# Lines of overseas départements written under the country code a system assumed: one set of nine
# national digits, +262 in one source, typed nationally at the counter ("06 93 …": a Réunion block
# libphonenumber does not know, read +33), or +33 in the source for a valid Réunion mobile.
OVERSEAS_LINES = [
    {
        "source": "ecommerce",
        "source_id": "OL1",
        "given_name": "Maëva",
        "family_name": "Payet",
        "phone": "+262 6 93 28 29 87",
        "birth_date": "1991-05-12",
        "postcode": "97400",
        "city": "Saint-Denis",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "OL2",
        "given_name": "Teddy",
        "family_name": "Hoarau",
        "phone": "+33 6 92 45 67 89",
        "birth_date": "1979-09-30",
        "postcode": "97410",
        "city": "Saint-Pierre",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# Two slips in one name: her only record says "Marrei" (a letter doubled, two swapped), and her
# husband and son share her family name, her street and her town. Typed "marie kerbiriou
# landerneau", no customer holds every word: the all-words-but-one tier finds the three.
TWO_SLIPS = [
    {
        "source": "crm",
        "source_id": "TS1",
        "given_name": "Marrei",
        "family_name": "Kerbiriou",
        "birth_name": "Le Bihan",
        "birth_date": "1961-03-08",
        "street": "4 rue de Brest",
        "postcode": "29800",
        "city": "Landerneau",
        "updated_at": "2026-02-01T10:00:00Z",
    },
    *(
        {
            "source": "crm",
            "source_id": f"TS{n}",
            "given_name": given,
            "family_name": "Kerbiriou",
            "birth_date": born,
            "street": "4 rue de Brest",
            "postcode": "29800",
            "city": "Landerneau",
            "updated_at": "2026-02-01T10:00:00Z",
        }
        for n, given, born in ((2, "Vincent", "1959-11-21"), (3, "Thierry", "1988-06-14"))
    ),
]

# Her newest record holds a slip of her given name ("Mari"), which the golden record keeps; her
# older one spells it as she says it. Another Marie Quelen, of Lorient, is spelled right everywhere.
GOLDEN_SLIP = [
    {
        "source": "crm",
        "source_id": f"GS{n}",
        "given_name": given,
        "family_name": "Quelen",
        "birth_date": "1970-05-04",
        "email": "marie.quelen@orange.fr",
        "postcode": "56000",
        "city": "Vannes",
        "updated_at": at,
    }
    for n, given, at in ((1, "Marie", "2024-03-01T10:00:00Z"), (2, "Mari", "2026-03-01T10:00:00Z"))
] + [
    {
        "source": "crm",
        "source_id": "GS3",
        "given_name": "Marie",
        "family_name": "Quelen",
        "birth_date": "1988-09-12",
        "postcode": "56100",
        "city": "Lorient",
        "updated_at": "2026-02-01T10:00:00Z",
    }
]

# His newest record gives a street and a postcode but no town, so his golden address says no town;
# an older one says Saint-Malo. Another Enzo lives in Saint-Malo-de-Guersac, which shares its words.
NO_TOWN_NOW = [
    {
        "source": "crm",
        "source_id": "NT1",
        "given_name": "Enzo",
        "family_name": "Rouxel",
        "birth_date": "1993-01-27",
        "email": "enzo.rouxel@free.fr",
        "street": "9 rue de Dinan",
        "postcode": "35400",
        "city": "Saint-Malo",
        "updated_at": "2023-05-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "NT2",
        "given_name": "Enzo",
        "family_name": "Rouxel",
        "birth_date": "1993-01-27",
        "email": "enzo.rouxel@free.fr",
        "street": "14 quai Duguay-Trouin",
        "postcode": "35400",
        "updated_at": "2026-04-01T10:00:00Z",
    },
    {
        "source": "crm",
        "source_id": "NT3",
        "given_name": "Enzo",
        "family_name": "Guillou",
        "birth_date": "1979-10-02",
        "street": "2 rue du Port",
        "postcode": "44550",
        "city": "Saint-Malo-de-Guersac",
        "updated_at": "2026-02-01T10:00:00Z",
    },
]

# Monique Rionard: one of her records wrote the names the other way round (given "Rionard", family
# "Monique"), another her initial only. Monique Micouert has one record. Typed family first with a
# slip, "Micuoert Monique" fits Monique Micouert (one letter swapped) and Monique Rionard only through
# her initial; the one word typed whole, Monique, is Rionard's given name and, through the swapped
# record, a family name of hers too.
SWAPPED_NAMES = [
    {
        "source": source,
        "source_id": f"SW{n}",
        "given_name": given,
        "family_name": family,
        "birth_date": "1958-06-14",
        "email": "monique.rionard@laposte.net",
        "phone": "06 41 27 93 58",
        "postcode": "87000",
        "city": "Limoges",
        "updated_at": at,
    }
    for n, source, given, family, at in (
        (1, "crm", "Monique", "Rionard", "2025-02-01T10:00:00Z"),
        (2, "ecommerce", "Rionard", "Monique", "2025-06-01T10:00:00Z"),
        (3, "crm", "M.", "Rionard", "2026-01-01T10:00:00Z"),
    )
] + [
    {
        "source": "crm",
        "source_id": "SW4",
        "given_name": "Monique",
        "family_name": "Micouert",
        "birth_date": "1949-11-03",
        "postcode": "19100",
        "city": "Brive-la-Gaillarde",
        "updated_at": "2025-09-01T10:00:00Z",
    }
]

# A new person pushed in real time, then her loyalty record (accents dropped, another date format):
# the two records of one newcomer the push and look-up tests send back to back.
NEWCOMER = {
    "source": "ecommerce",
    "source_id": "N-1",
    "given_name": "Maëlys",
    "family_name": "Quéméner",
    "birth_date": "1992-08-14",
    "email": "maelys.q@laposte.net",
    "updated_at": "2026-11-20T10:00:00Z",
}
NEWCOMER_AT_THE_SHOP = {
    "source": "loyalty_nantes",
    "source_id": "N-2",
    "given_name": "Maelys",
    "family_name": "Quemener",
    "birth_date": "14/08/1992",
    "phone": "07 12 34 56 78",
    "updated_at": "2026-11-20T10:00:01Z",
}
