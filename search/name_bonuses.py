"""The constant bonuses the first tier adds on top of a name match (search.name_clauses.names_clause):
a run of the words typed that is a whole name, the words read family name first or given name
first, and a word typed that is one of the customer's towns, their current town or the whole town.
They decide the order among customers matching every word; they never decide who matches."""

from __future__ import annotations

from typing import Any

from analyzers.names import name_tokens

# What reading the words as the counter writes them — family name first, then the given name —
# adds when the first word begins the customer's family name and the last their given name
# ("roch et": Ethan Rocher before Roch Etienne). As much as a whole name typed: type-ahead
# prefixes are otherwise ambiguous between the two readings. Measured on the independent corruption
# model (300 customers' "4 + 2 letters" prefixes: @1 0.47 → 0.52 with 5, 0.57 with 25) and checked
# on the demo generator (bench/RESULTS.md, 2026-11-27).
FAMILY_FIRST_BOOST = 25.0
# The other reading — given name first ("s quil", "jea gau") — is typed too (no data says how
# often; the benchmark draws both orders), and a customer whose names begin with the words in that
# order fits them exactly, unlike one found through a look-alike, a phonetic key or another
# record's spelling ("s quillévéré": Maëlle Quillévéré, née Salaün, tested). Less than
# FAMILY_FIRST_BOOST, so between the two readings the counter's habit still decides; more than the
# name scores' differences between customers matching the same words (about 1 to 15). Given-first
# prefixes @5: demo 0.895 → 0.955, corruption model 0.780 → 0.810, no kind lost at 5
# (bench/search_quality, bench/RESULTS.md 2026-11-27, session 10).
GIVEN_FIRST_BOOST = 12.5


def reading_bonuses(words: list[str]) -> list[dict[str, Any]]:
    """Constant bonuses for the customers whose family name begins with the first word typed and
    given name with the last (FAMILY_FIRST_BOOST), or given name with the first and family name
    with the last (GIVEN_FIRST_BOOST), compared folded — except after an initial (initial_first)."""
    if initial_first(words):
        return [_reading(words[-1], words[0], FAMILY_FIRST_BOOST), _reading(words[0], words[-1], GIVEN_FIRST_BOOST)]
    return [_reading(words[0], words[-1], FAMILY_FIRST_BOOST), _reading(words[-1], words[0], GIVEN_FIRST_BOOST)]


def initial_first(words: list[str]) -> bool:
    """Whether the words typed begin with a lone letter before a longer last word ("j philippe",
    "m paris"): a name abbreviated to its initial is written before the family name in French ("J.
    Dupont"), never a family name's initial before a whole given name, so the letter reads as the
    given name's initial whatever the counter's habit of typing the family name first. It matters
    where family names are also given names (Martin, Thomas, Bernard, Robert, Richard, Philippe —
    among France's most common): otherwise "j philippe" puts Philippe Jourdan before J. Philippe."""
    return len(words[0]) == 1 and len(words[-1]) > 1


def _reading(family: str, given: str, boost: float) -> dict[str, Any]:
    both = [_any_spelling("family_name", {"prefix": family}), _any_spelling("given_name", {"prefix": given})]
    return {"constant_score": {"filter": {"bool": {"filter": both}}, "boost": boost}}


# Where a customer's given and family names are read by the bonuses: the golden record's, and every
# spelling its records hold (the customers index's `given_names`, `family_names`). The golden name
# comes from one record, which may hold the slip another record does not ("Mari Durevieu", "Lucas
# Roet", "Sandyy Martin" golden; "Marie", "Robert", "Sandrine" in their older records): read alone,
# it cost the person the whole-name (25 a field) and reading (25) bonuses their namesakes got, and
# put them behind every one (bench/search_quality on the independent corruption model, session 17:
# of 200 "shop namesakes, no shop" look-ups, 34 had the person 20 to 50 points below the first
# namesake, each one's golden name a slip). The golden field stays read: an index built before the
# spellings were stored still ranks as it did until its next full run.
SPELLINGS = {"given_name": "given_names", "family_name": "family_names"}


def _any_spelling(field: str, query: dict[str, Any]) -> dict[str, Any]:
    """`query` ({"prefix": value}, {"term": value} or {"terms": values}) on the golden `field` or any of its spellings."""
    ((kind, value),) = query.items()
    paths = [f"{field}.keyword", *([SPELLINGS[field]] if field in SPELLINGS else [])]
    return {"bool": {"should": [{kind: {path: value}} for path in paths], "minimum_should_match": 1}}


# What a whole name typed adds to a customer's score, per name field (the name query scores run
# from about 10 to 100). bench/search_quality: exact names found first 97.6 → 98.7%, one typo
# 86.9 → 89.9% (namesakes counted); 10, 50 or 100 for every field did no better than these.
WHOLE_NAME_BOOSTS = {"given_name": 25.0, "family_name": 25.0, "birth_name": 10.0}
MAX_NAME_WORDS = 4


def whole_name_bonus(names: str) -> list[dict[str, Any]]:
    """Clauses rewarding a customer whose given, family or birth name (for the first two, any
    spelling its records hold) is exactly a run of the words typed ("Chevrolet Pascal" → Pascal
    Chevrolet before Meik Chevrolet-Pascal; "van der Laar Selina" → family name "van der Laar"),
    compared folded (the keyword normalizer folds).

    Each run earns the given or the family name's bonus, not both (`dis_max`): a record that wrote
    the names the other way round ("Monique" as the family name, "Rionard" as the given one) gives
    the customer the typed given name as a family name too, and the one word typed whole earned
    both — 50 where the person whose other name was typed with a slip earned 25. On the independent
    corruption model, session 19: 10 of the 42 typo look-ups (three kinds) printed as missed ("Micuoert
    Monique": Monique Rionard first; "Eean Garec": Garec Jean-Marc; "Michel Vernard": Michel
    Vincent). The birth name's bonus still adds: a maiden name typed that some record also wrote as
    the family name is the woman's evidence twice over, and folding it in lost 5 of 200 "maiden
    name" look-ups to namesakes holding it as their family name (same run)."""
    given_or_family = [{"dis_max": {"queries": [_whole_name(field, run) for field in DIS_MAX_NAMES]}} for run in _word_runs(names)]
    birth = {
        "constant_score": {"filter": _any_spelling("birth_name", {"terms": _word_runs(names)}), "boost": WHOLE_NAME_BOOSTS["birth_name"]}
    }
    return [*given_or_family, birth]


# The name fields whose whole-name bonuses one run typed earns only once (whole_name_bonus).
DIS_MAX_NAMES = ("given_name", "family_name")


def _whole_name(field: str, run: str) -> dict[str, Any]:
    return {"constant_score": {"filter": _any_spelling(field, {"term": run}), "boost": WHOLE_NAME_BOOSTS[field]}}


# What a town typed beside the names adds to a customer living there now, in all (one an older
# record placed there gets TOWN_BOOST - CURRENT_TOWN_BOOST; name scores run from about
# 10 to 100): as much as a whole name typed (WHOLE_NAME_BOOSTS), so Dupont in Bordeaux comes before
# the other Duponts, and a name that is also a town still finds its people first (they have the
# whole-name bonus and the name clauses besides). Measured on the demo generator and on the
# independent corruption model (bench/search_quality --data robustness, "family + town": @5 0.982
# and 0.850, 2026-11-27).
TOWN_BOOST = 25.0


def town_bonus(names: str) -> dict[str, Any] | None:
    """A constant bonus for the customers one of whose towns holds one of the words typed, whole,
    of CURRENT_TOWN_MIN_LENGTH letters or more (None when no word is that long). A town typed with
    a typo gets none: it already decides who matches every word (the others fall to the second
    tier), and a name typo that is also a town ("Marie Mratin": Sainte-Martin) would otherwise pass
    the person it meant. Nor does a town's article or particle ("La", "Le", "Les", "de", "en" — La
    Rochelle, Saint-Martin-de-Ré): a two-letter word typed is a given name begun ("vaua la" for
    Laura Vauain), and the bonus put Rémi Vaua of La Pont-d'Arc above her, said to match a town."""
    words = [word for word in name_tokens(names) if len(word) >= CURRENT_TOWN_MIN_LENGTH]
    if not words:
        return None
    body = {"query": " ".join(words), "_name": "city"}
    return {"constant_score": {"filter": {"match": {"towns": body}}, "boost": TOWN_BOOST - CURRENT_TOWN_BOOST}}


# The part of TOWN_BOOST only the customer's town now (the golden record's) gets; a town an older
# record held gets the rest. A customer says where they live: among the Isabelles who ever lived
# in Lille, the one living there now is the likelier (bench/search_quality, "given + town": the
# misses were customers an older record placed in the town typed, or whose golden record holds no
# town, ranked before the person living there; bench/RESULTS.md 2026-11-27, session 10). Never
# more than TOWN_BOOST in all: on top of it, the current town passed people whose name was typed
# whole with a typo in the other word ("Garin Auger": Clara Martin of Auger before Marin Auger, on
# the demo generator, whose towns are made of names). Half: having lived there still counts.
CURRENT_TOWN_BOOST = 12.5
# Two-letter words typed are most often a given name's first letters ("dura la"), and towns' articles
# ("La Bois-les-Bains", "Le Havre") would reward them: no town bonus (town_bonus, current_town_bonus)
# for them. Not tuned: French towns' own words are three letters or more (Dax, Pau, Bar-le-Duc; Eu and Y
# aside), their articles and particles two (La, Le, de, du, en), and so are the given names' beginnings
# type-ahead sends.
CURRENT_TOWN_MIN_LENGTH = 3


# The part of CURRENT_TOWN_BOOST only a current town typed whole gets (a run of the words typed is
# the town, compared folded): French towns share words ("Saint-Neuville" and "Neuville", "Aubin-du-Lac"
# and "Le Aubin-du-Lac", "Champagne-d'Arc" and "Ploërmel-d'Arc"), and among the Catherines living in
# a town holding a word typed, the one living in the town typed is the likelier. Half: a town typed
# in part ("malo" for Saint-Malo) still counts. bench/search_quality, "given + town" on the
# independent corruption model: the misses were namesakes living in a town sharing one word with the
# person's (bench/RESULTS.md, 2026-11-27, session 11).
WHOLE_CURRENT_TOWN_BOOST = CURRENT_TOWN_BOOST / 2


def current_town_bonus(names: str) -> list[dict[str, Any]]:
    """Constant bonuses for the customers whose current town holds one of the words typed, whole,
    of CURRENT_TOWN_MIN_LENGTH letters or more, and more for those whose current town is a run of
    the words typed (hyphens or spaces between them)."""
    words = [word for word in name_tokens(names) if len(word) >= CURRENT_TOWN_MIN_LENGTH]
    if not words:
        return []
    town_word = _or_without_town({"match": {"city": {"query": " ".join(words)}}}, [{"match": {"towns": {"query": " ".join(words)}}}])
    runs = [{"match_phrase": {"towns": run}} for run in _word_runs(names)]
    whole_town = _or_without_town({"terms": {"city.keyword": _word_runs(names, joins=(" ", "-"))}}, runs)
    return [
        {"constant_score": {"filter": town_word, "boost": CURRENT_TOWN_BOOST - WHOLE_CURRENT_TOWN_BOOST}},
        {"constant_score": {"filter": whole_town, "boost": WHOLE_CURRENT_TOWN_BOOST}},
    ]


# A customer whose current address holds no town (survivorship keeps an address whole, and the
# newest may give a street and a postcode only) says nowhere where they live now: the towns their
# records hold stand for it, or among the Nicolases of Limoges the one whose golden record is silent
# ranked 12.5 below every other (bench/search_quality on the independent corruption model, session
# 17: 21 of 400 "given + town" and "family + town" look-ups had the person 10 points or more below
# the first customer fitting as well; of the 12 looked at, 9 had no golden town, 3 a golden name
# slip). A town typed whole is then a phrase of those towns (they have no keyword view):
# "roche-en-bresse" also rewards a Saint-Roche-en-Bresse, for these customers only.
def _or_without_town(current: dict[str, Any], towns: list[dict[str, Any]]) -> dict[str, Any]:
    no_current_town = {"bool": {"must_not": [{"exists": {"field": "city"}}]}}
    held = {"bool": {"filter": [no_current_town, {"bool": {"should": towns, "minimum_should_match": 1}}]}}
    return {"bool": {"should": [current, held], "minimum_should_match": 1}}


def _word_runs(names: str, joins: tuple[str, ...] = (" ",)) -> list[str]:
    """Every run of up to MAX_NAME_WORDS consecutive words typed, joined by each of `joins`, sorted."""
    words = names.split()
    runs = {
        join.join(words[i:j]) for join in joins for i in range(len(words)) for j in range(i + 1, min(len(words), i + MAX_NAME_WORDS) + 1)
    }
    return sorted(runs)
