"""Never-merge rules checked against the data, and priors per kind of pair: pure, without a node."""

from __future__ import annotations

import numpy as np

from search.resolve.calibration import enforced_never_merge, relaxed_never_merge_rules
from search.resolve.comparisons import NAME_DIFFERENT, NULL, comparison_vector, comparisons_for
from search.resolve.config import NeverMergeCalibration, PriorStrength, ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.model import train_model

COMPARISONS = comparisons_for(())
# given_name, family_name, birth_date, email, phone, loyalty_card, address
SAME_DAY_OTHER_GIVEN_NAME = [NAME_DIFFERENT, 0, 0, NULL, NULL, NULL, 0]
HOUSEHOLD_MEMBER = [NAME_DIFFERENT, 0, 3, NULL, NULL, NULL, 0]
SAME_PERSON = [0, 0, 0, 0, NULL, NULL, 0]
OTHER_BIRTH_DATE = [0, 0, 3, 0, NULL, NULL, 0]  # one name, address and e-mail: one person, a date mistyped
FATHER_AND_SON = [0, 0, 3, NULL, 0, NULL, 0]  # one name, address and landline; nothing personal in common


def _vectors(*groups: tuple[list[int], int]) -> np.ndarray:
    return np.array([row for row, count in groups for _ in range(count)], dtype=np.int8)


def test_households_born_on_different_days_keep_the_given_names_rule() -> None:
    vectors = _vectors((HOUSEHOLD_MEMBER, 300), (SAME_DAY_OTHER_GIVEN_NAME, 6), (SAME_PERSON, 1000))  # 2% twins
    assert relaxed_never_merge_rules(vectors, COMPARISONS, ResolutionConfig()) == {}


def test_given_names_that_mostly_share_a_birth_date_at_one_address_are_noise_not_households() -> None:
    vectors = _vectors((SAME_DAY_OTHER_GIVEN_NAME, 90), (HOUSEHOLD_MEMBER, 10), (SAME_PERSON, 1000))
    relaxed = relaxed_never_merge_rules(vectors, COMPARISONS, ResolutionConfig())
    assert list(relaxed) == ["different_given_names"]
    assert "90 of 100" in relaxed["different_given_names"]
    assert enforced_never_merge(ResolutionConfig(), relaxed) == {
        "different_birth_dates",
        "different_sex",
        "different_personal_contacts",
        "namesakes_at_home",
    }


def test_birth_dates_that_often_disagree_under_one_name_and_address_are_noise_not_namesakes() -> None:
    noisy = _vectors((SAME_PERSON, 900), (OTHER_BIRTH_DATE, 60))
    assert list(relaxed_never_merge_rules(noisy, COMPARISONS, ResolutionConfig())) == ["different_birth_dates"]
    one_namesake = _vectors((SAME_PERSON, 900), (OTHER_BIRTH_DATE, 2))
    assert relaxed_never_merge_rules(one_namesake, COMPARISONS, ResolutionConfig()) == {}


def test_sons_named_after_their_fathers_are_namesakes_not_noisy_birth_dates() -> None:
    # 7% of one-name-one-roof pairs born apart, none sharing an e-mail or an identifier: fathers and
    # sons (bench.corruption's father_namesake_share 0.3 made 70 of 956), not mistyped dates — the
    # birth dates rule stays, or "Pierre Guiac" born 1949 and born 1996 become one customer.
    vectors = _vectors((SAME_PERSON, 900), (FATHER_AND_SON, 70))
    assert relaxed_never_merge_rules(vectors, COMPARISONS, ResolutionConfig()) == {}


def test_without_an_e_mail_or_an_identifier_birth_dates_are_never_read_as_noise() -> None:
    # Data holding no e-mail and no identifier cannot tell a mistyped date from a father and son:
    # the birth-date rule stays, whatever share of one-name-one-roof pairs is born apart.
    no_contact = [0, 0, 3, NULL, NULL, NULL, 0]
    vectors = _vectors(([0, 0, 0, NULL, NULL, NULL, 0], 900), (no_contact, 300))
    assert relaxed_never_merge_rules(vectors, COMPARISONS, ResolutionConfig()) == {}


def test_too_few_pairs_or_calibration_off_keep_every_rule() -> None:
    few = _vectors((SAME_DAY_OTHER_GIVEN_NAME, 5), (SAME_PERSON, 10))
    assert relaxed_never_merge_rules(few, COMPARISONS, ResolutionConfig()) == {}
    noisy = _vectors((SAME_DAY_OTHER_GIVEN_NAME, 90), (SAME_PERSON, 900), (OTHER_BIRTH_DATE, 60))
    off = ResolutionConfig(never_merge_calibration=NeverMergeCalibration(enabled=False))
    assert relaxed_never_merge_rules(noisy, COMPARISONS, off) == {}
    assert relaxed_never_merge_rules(noisy, COMPARISONS, ResolutionConfig(never_merge=["different_sex"])) == {}


def test_duplicates_across_sources_are_more_likely_than_inside_one_source() -> None:
    # Each person once in the CRM and once in the web shop, no system holding anyone twice.
    given = ["Jean", "Marie", "Luc", "Anne", "Paul", "Claire", "Hugo", "Emma", "Jules", "Chloé", "Louis", "Inès"]
    family = ["Martin", "Bernard", "Dubois", "Robert", "Faure"]
    records = []
    for person in range(60):
        for source in ("crm", "web"):
            records.append(
                features_from_document(
                    {
                        "record_id": f"{source}:{person}",
                        "source": source,
                        "given_name": given[person % 12],
                        "family_name": family[person // 12],
                        "birth_date": f"19{50 + person % 40}-0{1 + person % 9}-1{person % 10}",
                    }
                )
            )
    pairs = np.array([(2 * p, 2 * p + 1) for p in range(60)] + [(2 * p, 2 * p + 2) for p in range(59)])
    same_source = np.array([records[i].source == records[j].source for i, j in pairs.tolist()])
    vectors = np.array(
        [[0, 0, 0, NULL, NULL, NULL, NULL]] * 60 + [[NAME_DIFFERENT, NAME_DIFFERENT, 3, NULL, NULL, NULL, NULL]] * 59, dtype=np.int8
    )
    # Enough pairs to estimate the shares (the defaults for small data are tested elsewhere).
    model = train_model(records, vectors, COMPARISONS, ResolutionConfig(priors=PriorStrength(min_records=100, min_pairs=100)), same_source)
    assert model.prior_within_source is not None
    assert model.prior > 100 * model.prior_within_source
    assert model.prior_weight_for(same_source=False) > model.prior_weight_for(same_source=True)


def test_em_learns_the_person_not_the_household() -> None:
    # One family name, one street and one landline: two members of a household, born on other
    # days, look more alike than one person seen years apart. EM must not take them for one
    # person (the never-merge rule says they are two), or a different given name, birth date
    # or e-mail would weigh almost nothing against anyone.
    person = [0, 0, 0, 0, 0, NULL, 0]
    elsewhere = COMPARISONS[6].levels.index("elsewhere")
    other_email = COMPARISONS[3].levels.index("different")
    moved = [0, 0, 0, other_email, 3, NULL, elsewhere]
    household = [NAME_DIFFERENT, 0, 3, other_email, 0, NULL, 0]
    stranger = [NAME_DIFFERENT, 3, 3, other_email, 3, NULL, elsewhere]
    vectors = _vectors((person, 300), (moved, 30), (household, 600), (stranger, 300))
    records = [features_from_document({"record_id": f"crm:{k}", "source": "crm"}) for k in range(10)]  # u: the defaults
    model = train_model(records, vectors, COMPARISONS, ResolutionConfig(), np.zeros(len(vectors), dtype=bool))
    given, birth, email = (model.level_weights()[COMPARISONS.index(c)] for c in (COMPARISONS[0], COMPARISONS[2], COMPARISONS[3]))
    assert given[NAME_DIFFERENT] < -5 and birth[3] < -5 and email[other_email] < -2
    assert model.m[0][NAME_DIFFERENT] < 0.05


def test_the_random_pairs_own_matches_are_not_read_as_chance_agreement() -> None:
    # 300 people, each once in the CRM and once in the web shop, every one born on another day.
    # Of the random pairs u is measured on, one in 600 is a person's two records: as many as agree
    # on a birth date. Counted as chance, an exact birth date would weigh just what the prior
    # takes away, and two records agreeing on it and on both names would stay apart.
    given = ["Jean", "Marie", "Luc", "Anne", "Paul", "Claire", "Hugo", "Emma", "Jules", "Chloé", "Louis", "Inès"]
    family = ["Martin", "Bernard", "Dubois", "Robert", "Faure"]
    records = [
        features_from_document(
            {
                "record_id": f"{source}:{person}",
                "source": source,
                "given_name": given[person % 12],
                "family_name": family[person % 5],
                "birth_date": f"{1930 + person % 60}-{1 + person // 60:02d}-{1 + person % 28:02d}",
            }
        )
        for person in range(300)
        for source in ("crm", "web")
    ]
    people = [(2 * p, 2 * p + 1) for p in range(300)]
    namesakes = [(2 * p, 2 * (p + 60) + 1) for p in range(240)]  # same names, other people
    pairs = np.array(people + namesakes)
    vectors = np.array([comparison_vector(records[i], records[j], COMPARISONS) for i, j in pairs.tolist()], dtype=np.int8)
    model = train_model(records, vectors, COMPARISONS, ResolutionConfig(), np.zeros(len(pairs), dtype=bool))
    same_person = vectors[0]
    assert model.prior_weight + sum(model.level_weights()[c][level] for c, level in enumerate(same_person) if level != NULL) > 10
    birth = model.level_weights()[2]
    assert model.prior_weight + birth[0] > 5
