"""Where people live: a few thousand French postcodes with skewed populations, towns, streets, phones.

Large cities keep their real postcodes (Paris's twenty arrondissements, Marseille, Lyon…) and
carry a large share of people; every department also gets a few dozen invented communes whose
populations follow a Pareto law, so most postcodes hold a handful of people and a few hold many.
Phone numbers follow the French plan: a landline's first digits say its region; mobiles are 06 or
07, and an *unverifiable* mobile is a well-formed number that libphonenumber does not call valid
(07 0x–07 2x, not yet allocated, or a Réunion/Mayotte mobile 06 93/06 94 written the national way).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

import phonenumbers

from bench.corruption.vocabulary import STREET_NAMES, STREET_TYPES, TOWN_HEADS, TOWN_ROOTS, TOWN_TAILS

# (town, postcodes, people per postcode relative to an average invented commune)
CITIES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("Paris", tuple(f"750{n:02d}" for n in range(1, 21)), 60.0),
    ("Marseille", tuple(f"130{n:02d}" for n in range(1, 17)), 30.0),
    ("Lyon", tuple(f"6900{n}" for n in range(1, 10)), 30.0),
    ("Toulouse", ("31000", "31100", "31200", "31300", "31400", "31500"), 35.0),
    ("Nice", ("06000", "06100", "06200", "06300"), 30.0),
    ("Nantes", ("44000", "44100", "44200", "44300"), 30.0),
    ("Strasbourg", ("67000", "67100", "67200"), 30.0),
    ("Montpellier", ("34000", "34070", "34080", "34090"), 25.0),
    ("Bordeaux", ("33000", "33100", "33200", "33300", "33800"), 22.0),
    ("Lille", ("59000", "59160", "59260", "59800"), 25.0),
    ("Rennes", ("35000", "35200", "35700"), 25.0),
    ("Reims", ("51100",), 40.0),
    ("Le Havre", ("76600", "76610", "76620"), 18.0),
    ("Saint-Étienne", ("42000", "42100"), 30.0),
    ("Toulon", ("83000", "83100", "83200"), 18.0),
    ("Grenoble", ("38000", "38100"), 30.0),
    ("Dijon", ("21000",), 35.0),
    ("Angers", ("49000", "49100"), 30.0),
    ("Nîmes", ("30000", "30900"), 25.0),
    ("Villeurbanne", ("69100",), 35.0),
    ("Clermont-Ferrand", ("63000", "63100"), 25.0),
    ("Le Mans", ("72000", "72100"), 25.0),
    ("Brest", ("29200",), 35.0),
    ("Tours", ("37000", "37100", "37200"), 18.0),
    ("Amiens", ("80000", "80080", "80090"), 18.0),
    ("Limoges", ("87000", "87100"), 22.0),
    ("Annecy", ("74000",), 30.0),
    ("Perpignan", ("66000", "66100"), 25.0),
    ("Metz", ("57000", "57050", "57070"), 15.0),
)
DEPARTMENTS: tuple[str, ...] = (*tuple(f"{n:02d}" for n in range(1, 96) if n != 20), "20")
COMMUNES_PER_DEPARTMENT = 30
# The first digit of a landline (after 0) by department: 1 Île-de-France, 2 north-west, 3 north-east,
# 4 south-east, 5 south-west.
_REGION_DIGIT = {
    **{d: "1" for d in ("75", "77", "78", "91", "92", "93", "94", "95")},
    **{
        d: "2"
        for d in ("14", "18", "22", "27", "28", "29", "35", "36", "37", "41", "44", "45", "49", "50", "53", "56", "61", "72", "76", "85")
    },
    **{
        d: "3"
        for d in (
            "02",
            "08",
            "10",
            "21",
            "25",
            "39",
            "51",
            "52",
            "54",
            "55",
            "57",
            "58",
            "59",
            "60",
            "62",
            "67",
            "68",
            "70",
            "71",
            "80",
            "88",
            "89",
            "90",
        )
    },
    **{
        d: "4"
        for d in (
            "01",
            "03",
            "04",
            "05",
            "06",
            "07",
            "13",
            "15",
            "20",
            "26",
            "30",
            "34",
            "38",
            "42",
            "43",
            "48",
            "63",
            "69",
            "73",
            "74",
            "83",
            "84",
        )
    },
}
VALID_MOBILE_PREFIXES = ("060", "061", "062", "064", "065", "066", "067", "068", "073", "074", "075", "076", "077", "078")
UNVERIFIABLE_MOBILE_PREFIXES = ("070", "071", "072", "0693", "0694")


@dataclass(frozen=True)
class Address:
    street: str  # "12 rue Victor Hugo"
    postcode: str
    town: str


@dataclass(frozen=True)
class Place:
    postcode: str
    town: str
    weight: float


def _town_name(rng: random.Random) -> str:
    return rng.choice(TOWN_HEADS) + rng.choice(TOWN_ROOTS) + rng.choice(TOWN_TAILS)


class Geography:
    """Postcodes with their towns and populations, and the addresses and landlines people have there."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        places = [Place(code, town, weight) for town, codes, weight in CITIES for code in codes]
        taken = {place.postcode for place in places}
        for department in DEPARTMENTS:
            for _ in range(COMMUNES_PER_DEPARTMENT):
                code = f"{department}{rng.randrange(0, 1000):03d}"
                if code[2:] == "000" or code in taken:
                    continue
                taken.add(code)
                places.append(Place(code, _town_name(rng), min(rng.paretovariate(1.2), 40.0)))  # capped: no village outgrows a city
        self.places = places
        self._cumulative = list(accumulate(place.weight for place in places))

    def address(self) -> Address:
        place = self.rng.choices(self.places, cum_weights=self._cumulative)[0]
        number = self.rng.choice((str(self.rng.randint(1, 40)), str(self.rng.randint(1, 180)), f"{self.rng.randint(1, 30)} bis"))
        street_type = self.rng.choice(STREET_TYPES)[0]
        return Address(f"{number} {street_type} {self.rng.choice(STREET_NAMES)}", place.postcode, place.town)

    def landline(self, postcode: str) -> str:
        """A ten-digit national landline for the region of `postcode`."""
        digit = _REGION_DIGIT.get(postcode[:2], "5")
        while True:  # a few ranges of each region digit belong to overseas departments or are unallocated
            number = f"0{digit}{self.rng.randint(0, 99_999_999):08d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(number, "FR")):
                return number

    def mobile(self, unverifiable: bool) -> str:
        # As many draws whatever the prefix (one float, seven digits; rng.choice's draws depend on the
        # length of the list): the share of unverifiable numbers changes nothing else.
        prefixes = UNVERIFIABLE_MOBILE_PREFIXES if unverifiable else VALID_MOBILE_PREFIXES
        prefix = prefixes[int(self.rng.random() * len(prefixes))]
        return (prefix + "".join(str(self.rng.randrange(10)) for _ in range(7)))[:10]
