"""A value a person changes, compared on records seen years apart (search.resolve.seen_apart). Pure."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np

from search.resolve.comparisons import NULL, comparison_vector, comparisons_for
from search.resolve.config import ResolutionConfig
from search.resolve.explain import explain_pair
from search.resolve.features import RecordFeatures
from search.resolve.scoring import contradicted_pairs, resolve_records
from search.resolve.seen_apart import UNDATED, changed_with_time, estimate_m_by_gap, gap_bits, pair_bins, shift_tables

GIVEN = ["anne", "paul", "marie", "louis", "claire", "hugo", "lea", "jules", "emma", "victor", "nina", "theo"]
FAMILY = [f"{stem}{end}" for stem in ("dur", "mor", "ber", "lam", "gir", "fav", "rou", "cha") for end in ("and", "eau", "ier", "ot", "ac")]


def _record(rid: str, source: str, seen: date, given: str, family: str, **values: str) -> RecordFeatures:
    return RecordFeatures(
        record_id=rid, source=source, updated_at=f"{seen.isoformat()}T10:00:00Z", given=given, family=family,
        given_ph=given.upper(), family_ph=family.upper(), **values,
    )  # fmt: skip


def _people_who_move(count: int = 300) -> list[RecordFeatures]:
    """Each person seen by a CRM and by a shop, either within months or 10 to 18 years apart; seen
    that far apart, three in four have moved and most have another mobile."""
    rng = random.Random(7)
    records = []
    for n in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        born = f"19{rng.randrange(40, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}"
        first = date(2004, 1, 1) + timedelta(days=rng.randrange(2000))
        far = n % 2 == 0
        second = first + timedelta(days=rng.randrange(3650, 6500) if far else rng.randrange(0, 200))
        moved, renumbered = far and rng.random() < 0.75, far and rng.random() < 0.6
        old = {
            "postcode": f"{rng.randrange(10, 95)}{rng.randrange(100, 999)}",
            "street": f"{rng.randrange(1, 90)} rue {rng.choice(FAMILY)}",
        }
        new = {
            "postcode": f"{rng.randrange(10, 95)}{rng.randrange(100, 999)}",
            "street": f"{rng.randrange(1, 90)} rue {rng.choice(FAMILY)}",
        }
        phone = f"+336{rng.randrange(10**8):08d}"
        records.append(_record(f"crm:{n}", "crm", first, given, family, birth_date=born, phone=phone, **old))
        shop = {"birth_date": born} if rng.random() < 0.6 else {}
        shop["phone"] = f"+337{rng.randrange(10**8):08d}" if renumbered else phone
        records.append(_record(f"shop:{n}", "shop", second, given, family, **shop, **(new if moved else old)))
    return records


def test_another_address_weighs_less_against_records_seen_years_apart_than_days_apart() -> None:
    # Trained on people who move over the years: "elsewhere" says less against a pair seen twelve
    # years apart than against one seen a week apart, and an undated pair keeps the pooled weight.
    model = resolve_records(_people_who_move(), ResolutionConfig()).model
    comparisons = comparisons_for()
    then = _record("a", "crm", date(2008, 3, 1), "hugo", "lambert", postcode="75011", street="4 rue oberkampf")

    def weight(seen: date | None) -> float:
        now = _record("b", "shop", seen or date(2000, 1, 1), "hugo", "lambert", postcode="69003", street="9 rue garibaldi")
        if seen is None:
            now.updated_at = ""
        return model.pair_weight(then, now, comparison_vector(then, now, comparisons))

    years_apart, days_apart, undated = weight(date(2020, 5, 1)), weight(date(2008, 3, 8)), weight(None)
    assert days_apart < undated < years_apart
    assert years_apart - days_apart > 1.0  # bits: "elsewhere" is several times likelier for one person twelve years on


def test_dates_that_say_nothing_change_no_weight() -> None:
    # Every record seen on one day (or undated): the distance in time is no evidence, every shift is 0.
    records = _people_who_move()
    for record in records:
        record.updated_at = "2020-01-01T00:00:00Z"
    model = resolve_records(records, ResolutionConfig()).model
    assert model.gap_shifts and all(np.allclose(table, 0.0) for table in model.gap_shifts.values())
    for record in records:
        record.updated_at = ""
    assert resolve_records(records, ResolutionConfig()).model.m_by_gap is None


def test_the_binned_m_is_estimated_from_the_pairs_of_each_distance_in_time() -> None:
    # 100 sure matches seen within a year, 90 of them at one address; 100 seen 10 years apart, 70 of
    # them at two: the bins' m follow the pairs, the shift of "elsewhere" is negative near, positive far.
    names, levels = ["address"], 6
    vectors = np.array([[0]] * 90 + [[5]] * 10 + [[0]] * 30 + [[5]] * 70, dtype=np.int8)
    bins = np.array([0] * 100 + [4] * 100, dtype=np.int8)
    estimate = estimate_m_by_gap(names, [[1 / levels] * levels], vectors, bins, np.full(200, 30.0), pseudo_pairs=0.0)
    assert estimate is not None
    near, far = estimate["m"]["address"][0], estimate["m"]["address"][4]
    assert abs(near[5] - 0.1) < 1e-6 and abs(far[5] - 0.7) < 1e-6
    shifts = shift_tables(estimate, names)[0]
    assert shifts[0, 5] < 0 < shifts[4, 5]
    undated = np.array([UNDATED, 4], dtype=np.int8)
    bits = gap_bits({0: shifts}, np.array([[5], [5]], dtype=np.int8), undated)
    assert bits[0] == 0.0 and bits[1] == shifts[4, 5]


def test_pairs_are_binned_by_the_years_between_their_records() -> None:
    seen = [date(2000, 1, 1), date(2000, 6, 1), date(2013, 1, 1), date(2030, 1, 1)]
    records = [_record(str(k), "crm", day, "a", "b") for k, day in enumerate(seen)] + [RecordFeatures("u", "crm", "")]
    bins = pair_bins(records, np.array([[0, 1], [0, 2], [0, 3], [0, 4]]))
    assert bins.tolist() == [0, 4, 5, UNDATED]


def test_a_customer_s_record_from_years_before_at_the_old_address_joins_and_one_from_last_week_does_not() -> None:
    # One rare full name on two records with nothing in common but the names, at two addresses: seen
    # twelve years apart it is the person before a move, and joins as a link resting on names alone
    # (the one customer the name fits); seen a week apart, the other address plainly says another
    # person, and only the match threshold could join them. The weak-link bar is configured so the
    # test does not depend on the bar this small set would estimate.
    config = ResolutionConfig(weak_link_threshold=0.5)
    then = _record("crm:probe", "crm", date(2008, 3, 1), "victor", "vandermeulen", birth_date="1961-04-12",
                   phone="+33611223344", postcode="75011", street="4 rue oberkampf")  # fmt: skip

    def customers_of(seen: date) -> tuple[str, str]:
        now = _record(
            "shop:probe", "shop", seen, "victor", "vandermeulen", email="vv@example.org", postcode="69003", street="9 rue garibaldi"
        )
        resolution = resolve_records([*_people_who_move(), then, now], config)
        labels = resolution.clustering.labels
        return labels[-2], labels[-1]

    years_apart, days_apart = customers_of(date(2020, 5, 1)), customers_of(date(2008, 3, 8))
    assert years_apart[0] == years_apart[1]
    assert days_apart[0] != days_apart[1]


def test_a_difference_most_people_show_that_far_apart_is_no_plain_difference() -> None:
    # Address: one person's records differ on it 1 time in 10 within a year, 7 in 10 ten years on.
    estimate = {"edges_years": [1.0, 2.0, 4.0, 8.0, 16.0], "pooled": {"address": [0.5, 0, 0, 0, 0.1, 0.4]}, "m": {"address": [
        [0.8, 0, 0, 0, 0.1, 0.1], [0.8, 0, 0, 0, 0.1, 0.1], [0.6, 0, 0, 0, 0.1, 0.3], [0.5, 0, 0, 0, 0.1, 0.4],
        [0.2, 0, 0, 0, 0.1, 0.7], [0.2, 0, 0, 0, 0.1, 0.7]]}}  # fmt: skip
    comparisons = comparisons_for()
    names = [c.name for c in comparisons]
    elsewhere = [NULL] * len(names)
    elsewhere[names.index("address")] = 5
    other_birth_date = list(elsewhere)
    other_birth_date[names.index("birth_date")] = 3
    vectors = np.array([elsewhere, elsewhere, elsewhere, other_birth_date], dtype=np.int8)
    bins = np.array([4, 0, UNDATED, 4], dtype=np.int8)
    changed = changed_with_time(estimate, names, vectors, bins)
    telling = [(column, len(c.levels) - 1) for column, c in enumerate(comparisons)]
    # Ten years apart: not contradicted; within a year or undated: contradicted; another birth date always.
    assert contradicted_pairs(vectors, comparisons, telling, changed).tolist() == [False, True, True, True]


def test_a_value_one_person_differs_on_whatever_the_time_stays_a_plain_difference() -> None:
    # A work and a personal e-mail: one person's records differ on it 6 times in 10 within the nearest
    # bin and as often far apart (all same-day data, or a tiny set held at the pooled m, looks the same):
    # the dates show no change with time, so the difference still bars a link on names alone.
    same = [[0.4, 0, 0, 0, 0, 0.6]] * 6
    rising = [[0.4, 0, 0, 0, 0, 0.6]] + [[0.2, 0, 0, 0, 0, 0.8]] * 5
    comparisons = comparisons_for()
    names = [c.name for c in comparisons]
    vector = [NULL] * len(names)
    vector[names.index("address")] = 5
    vectors = np.array([vector, vector], dtype=np.int8)
    bins = np.array([0, 4], dtype=np.int8)
    flat = changed_with_time({"m": {"address": same}}, names, vectors, bins)[:, names.index("address")]
    assert flat.tolist() == [False, False]
    grows = changed_with_time({"m": {"address": rising}}, names, vectors, bins)[:, names.index("address")]
    assert grows.tolist() == [False, True]  # far apart and more often than near: a move


def test_rcu_explain_says_linked_where_the_clustering_joined_a_record_from_years_before() -> None:
    # The explanation reads the same rule as the clustering: the old address on a record seen twelve
    # years before does not contradict a link resting on names alone.
    config = ResolutionConfig(weak_link_threshold=0.5)
    then = _record("crm:probe", "crm", date(2008, 3, 1), "victor", "vandermeulen", birth_date="1961-04-12",
                   phone="+33611223344", postcode="75011", street="4 rue oberkampf")  # fmt: skip
    now = _record(
        "shop:probe", "shop", date(2020, 5, 1), "victor", "vandermeulen", email="vv@example.org", postcode="69003", street="9 rue garibaldi"
    )
    resolution = resolve_records([*_people_who_move(), then, now], config)
    assert resolution.clustering.labels[-2] == resolution.clustering.labels[-1]
    explanation = explain_pair(then, now, resolution.model, config)
    assert explanation.decision == "same customer if no other customer fits the names", explanation.decision


def _victor(seen_then: date, seen_now: date) -> list[RecordFeatures]:
    """One rare full name on four records: a CRM record (birth date, a mobile, a mailbox of his names
    at wanadoo.fr, an address) seen on `seen_then`; an e-commerce account (another mobile, the same
    mailbox at orange.fr, another address), a shop's record of that mobile and a loyalty card at
    that address, seen on `seen_now`. The three last are one group (the mobile, the address); the
    CRM record meets it by the name alone, and against the e-commerce account by another mobile
    and a mailbox the comparisons read as different (made of the names, namesakes write it too)."""
    then = _record("crm:victor", "crm", seen_then, "victor", "vandermeulen", birth_date="1961-04-12", phone="+33611223344",
                   email="victor.vandermeulen@wanadoo.fr", postcode="75011", street="4 rue oberkampf")  # fmt: skip
    address = {"postcode": "69003", "street": "9 rue garibaldi"}
    return [
        then,
        _record(
            "web:victor", "web", seen_now, "victor", "vandermeulen", phone="+33755667788", email="victor.vandermeulen@orange.fr", **address
        ),
        _record("shop:victor", "shop", seen_now, "victor", "vandermeulen", phone="+33755667788"),
        _record("card:victor", "card", seen_now, "victor", "vandermeulen", **address),
    ]


def test_a_mobile_changed_over_twelve_years_joins_and_namesakes_mobiles_the_same_year_do_not() -> None:
    # Seen twelve years apart, the CRM record's old mobile is what most people's records show that far
    # apart (seen_apart): it neither bars the links resting on his name nor counts as a mobile of his
    # own against the e-commerce account's — the clustering reads the pair as `disagree` does, so his
    # two name links outvote the one pair that differs (the mailbox at another provider). Seen the
    # same year, the two mobiles are two people's: the name does not join them.
    config = ResolutionConfig(weak_link_threshold=0.5)

    def joined(seen_then: date, seen_now: date) -> bool:
        labels = resolve_records([*_people_who_move(), *_victor(seen_then, seen_now)], config).clustering.labels
        assert labels[-3] == labels[-2] == labels[-1]  # the recent group holds together either way
        return labels[-4] == labels[-1]

    assert joined(date(2008, 3, 1), date(2020, 5, 1))
    assert not joined(date(2020, 3, 1), date(2020, 5, 1))
