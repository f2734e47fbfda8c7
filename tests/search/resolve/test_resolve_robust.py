"""Pure parts of resolution on data rcu's generator does not make (issue 16): unverified values,
sparse-record blocking, names that are short forms of each other, small data, identifiers found."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from analyzers.errors import InvalidValue, UnverifiedValue
from analyzers.phones import to_e164
from indexers.contract import SourceRecord
from indexers.normalize import normalize_record
from search.query_parser import parse_query
from search.resolve.blocking import blocking_keys
from search.resolve.candidates import candidate_pairs
from search.resolve.comparisons import clearly_different_people, comparison_vector, comparisons_for, email_level, phone_level
from search.resolve.config import ResolutionConfig
from search.resolve.evidence import names_alone
from search.resolve.features import RecordFeatures, features_from_document
from search.resolve.frequencies import value_counts
from search.resolve.identifiers import attribute_candidates, detect_identifiers
from search.resolve.model import train_model
from search.resolve.scoring import resolve_records


def _record(record_id: str = "crm:1", **fields: object) -> RecordFeatures:
    return features_from_document({"record_id": record_id, "source": record_id.split(":")[0], **fields})


def _indexed(**fields: str) -> dict:
    return normalize_record(SourceRecord.model_validate({"source": "crm", "source_id": "1", **fields})).document


@pytest.mark.parametrize(
    ("typed", "canonical"), [("07 20 65 09 81", "+33720650981"), ("+33 7 20 65 09 81", "+33720650981"), ("06 93 12 34 56", "+262693123456")]
)
def test_a_well_formed_number_libphonenumber_does_not_know_keeps_its_canonical_form(typed: str, canonical: str) -> None:
    with pytest.raises(UnverifiedValue) as raised:
        to_e164(typed)
    assert raised.value.canonical == canonical
    document = _indexed(phone=typed)
    assert document["phone"] == canonical and document["quality"]["unverified"] == ["phone"]
    assert document["quality"]["warnings"][0]["field"] == "phone"  # the warning stays


@pytest.mark.parametrize("typed", ["00 00 00 00 00", "12 34", "appeler le soir"])
def test_what_is_not_a_phone_number_stays_out_of_matching(typed: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        to_e164(typed)
    assert not isinstance(raised.value, UnverifiedValue)
    assert "phone" not in _indexed(phone=typed)


def test_an_email_whose_domain_looks_wrong_is_kept_unverified() -> None:
    document = _indexed(email="Jean.Dupont@Gmail")
    assert document["email"] == "jean.dupont@gmail" and document["quality"]["unverified"] == ["email"]
    assert "email" not in _indexed(email="jean dupont chez gmail")


def test_the_counter_finds_an_unverified_number_typed_in_any_shape() -> None:
    assert parse_query("07 20 65 09 81").phone == "+33720650981"
    assert parse_query("jean.dupont@gmail").email == "jean.dupont@gmail"


def test_agreement_on_an_unverified_value_is_its_own_level() -> None:
    verified = _record(phone="+33612345678")
    unverified = _record(phone="+33720650981", quality={"unverified": ["phone"]})
    assert phone_level(verified, _record(phone="+33612345678")) == 0
    assert phone_level(unverified, _record(phone="+33720650981")) == 1
    assert phone_level(unverified, _record(phone="+33720650982")) == 2
    assert email_level(_record(email="a@b", quality={"unverified": ["email"]}), _record(email="a@b")) == 1


@pytest.mark.parametrize(
    ("given", "other"),
    [
        ("Pateick", "Patrick"),
        ("C", "Camille"),
        ("P.", "Patrick"),
        ("Christ", "Christophe"),
        ("JP", "Jean-Pierre"),
        ("Pierre", "Jean-Pierre"),
        ("Kevin", "Kévin"),
        ("Rnarie", "Marie"),  # OCR: "rn" read for "m"
        ("Dlorznce", "Florence"),  # two slips, the first letter one of them
    ],
)
def test_a_typo_an_initial_or_a_short_form_is_never_another_person(given: str, other: str) -> None:
    a = _record(given_name=given, family_name="Mattei", street="8 rue des Lilas", postcode="20000")
    b = _record(given_name=other, family_name="Mattei", street="8 rue des Lilas", postcode="20000")
    assert clearly_different_people(a, b) is None


def test_truly_different_given_names_at_one_address_are_two_people() -> None:
    a = _record(given_name="Patrick", family_name="Mattei", postcode="20000")
    b = _record(given_name="Sandrine", family_name="Mattei", postcode="20000")
    assert clearly_different_people(a, b) == "different given names"


@pytest.mark.parametrize(("given", "other"), [("Paul", "Raoul"), ("Léa", "Eva"), ("Louis", "Lucie")])
def test_short_names_two_keystrokes_apart_are_two_people(given: str, other: str) -> None:
    a = _record(given_name=given, family_name="Mattei", postcode="20000")
    b = _record(given_name=other, family_name="Mattei", postcode="20000")
    assert clearly_different_people(a, b) == "different given names"


@pytest.mark.parametrize(
    ("customer", "sparse"),
    [
        (
            {"given_name": "Nedda", "family_name": "Lesage", "postcode": "22056"},
            {"given_name": "Nedda", "family_name": "Leage", "postcode": "22056"},
        ),
        (
            {"given_name": "Nedda", "family_name": "Lesage", "postcode": "22056"},
            {"given_name": "Neda", "family_name": "Lesage", "postcode": "22056"},
        ),
        (
            {"given_name": "Paulette", "family_name": "Perrot", "postcode": "76198"},
            {"given_name": "Paulette", "family_name": "Oerrot", "postcode": "76198"},  # the first letter
        ),
        (
            {"given_name": "Alexander", "family_name": "Corpataux", "postcode": "14803"},
            {"given_name": "Corpataux", "family_name": "Alxeander", "postcode": "14803"},  # swapped
        ),
        ({"given_name": "Marc", "email": "marc.pinto@wanadoo.fr"}, {"given_name": "Marc", "email": "marc.pinto@orange.fr"}),
    ],
)
def test_a_sparse_record_with_one_typo_in_one_name_meets_its_customer(customer: dict, sparse: dict) -> None:
    assert set(blocking_keys(_record(**customer))) & set(blocking_keys(_record("loyalty:2", **sparse)))


def test_a_common_name_in_one_postcode_costs_no_more_than_the_block_bound() -> None:
    records = [_record(f"crm:{k}", given_name="Jean", family_name=f"Martin{k}", postcode="75011") for k in range(100)]
    pairs = candidate_pairs(records, max_block_size=60).pairs
    assert len(pairs) < 100  # the 100 Jeans of 75011 are past the bound: only their own names pair them


def _two_record_model(config: ResolutionConfig):
    records = [
        _record("crm:1", given_name="Anne", family_name="Quéré", phone="+33621436587"),
        _record("ecommerce:2", given_name="Anne", family_name="Quéré", phone="+33698765432"),
    ]
    comparisons = comparisons_for(())
    vectors = np.array([comparison_vector(records[0], records[1], comparisons)], dtype=np.int8)
    return train_model(records, vectors, comparisons, config, np.array([False]))


def test_on_two_records_the_model_uses_its_documented_defaults_and_says_so() -> None:
    model = _two_record_model(ResolutionConfig())
    assert {"u", "prior", "m:given_name", "m:phone"} <= set(model.defaults_used)
    for weights in model.level_weights():
        assert weights[0] > 0  # exact agreement is evidence for, never against
    same = model.level_weights()
    assert same[0][-1] < 0 and same[4][-1] < 0  # another given name, another phone: against


def test_em_on_a_handful_of_pairs_never_turns_agreement_into_evidence_against() -> None:
    # Priors on, defaults off: EM's own estimate on one pair, held by the priors.
    config = ResolutionConfig.model_validate({"priors": {"min_pairs": 1, "min_records": 2}})
    for weights in _two_record_model(config).level_weights():
        assert weights[0] >= 0


def test_an_attribute_behaving_like_an_identifier_is_found_and_a_segment_is_not() -> None:
    documents = []
    for person in range(150):
        for copy in range(2):
            documents.append(
                {
                    "record_id": f"s{copy}:{person}",
                    "source": f"s{copy}",
                    "given_name": ["Jean", "Anne", "Luc"][person % 3],
                    "family_name": f"Nom{person // 3}",
                    "birth_date": f"19{40 + person % 60}-0{1 + person % 9}-1{person % 10}",
                    "attributes": {"member_no": f"M{person:05d}", "segment": ["gold", "silver"][(person + copy) % 2]},
                }
            )
    config = ResolutionConfig()
    candidates = attribute_candidates(documents, config.identifier_detection)
    assert candidates == ("member_no",)  # a segment has too few values to be looked at
    records = [features_from_document(d, (), candidates) for d in documents]
    pairs = candidate_pairs(records, config.max_block_size).pairs
    assert list(detect_identifiers(records, pairs, config.identifier_detection)) == ["member_no"]
    shuffled = [features_from_document({**d, "attributes": {"member_no": f"M{k:05d}"}}, (), candidates) for k, d in enumerate(documents)]
    assert detect_identifiers(shuffled, pairs, config.identifier_detection) == {}  # never equal within pairs: not an identifier


def test_a_first_run_on_ten_records_merges_the_obvious_duplicates() -> None:
    people = [("Anne", "Quéré", "1984-02-09", "+33621436587"), ("Yann", "Le Goff", "1979-11-30", "+33633445566"),
              ("Maëlle", "Tanguy", "1992-06-14", "+33645678901"), ("Erwan", "Le Bihan", "1968-01-22", "+33656789012"),
              ("Nolwenn", "Riou", "2001-09-05", "+33667890123")]  # fmt: skip
    records = []
    for k, (given, family, born, phone) in enumerate(people):
        records.append(_record(f"crm:{k}", given_name=given, family_name=family, birth_date=born, phone=phone))
        records.append(_record(f"web:{k}", given_name=given.upper(), family_name=family, birth_date=born, phone=phone, postcode="29000"))
    records.append(_record("shop:9", given_name="Anne", family_name="Quéré", phone="+33698765432"))  # her name, another phone
    resolution = resolve_records(records, ResolutionConfig())
    labels = resolution.clustering.labels
    assert [labels[2 * k] == labels[2 * k + 1] for k in range(5)] == [True] * 5
    assert len(set(labels)) == 6
    assert "prior" in resolution.model.defaults_used


def test_an_email_is_as_common_as_the_people_holding_it_not_their_records() -> None:
    own = [_record(f"s{k}:1", given_name="Camille", family_name="Roux", email="camille.roux@free.fr") for k in range(5)]
    own.append(_record("newsletter:1", given_name="Camille", email="camille.roux@free.fr"))  # her given name only
    placeholder = [
        _record(f"crm:{k}", given_name=g, family_name=f, email="noemail@x.fr")
        for k, (g, f) in enumerate([("Jean", "Morel"), ("Anne", "Petit"), ("Luc", "Roy")])
    ]
    counts = value_counts(own + placeholder, comparisons_for(()))["email"]
    assert "camille.roux@free.fr" not in counts  # held by one person: as rare as a value seen once
    assert counts["noemail@x.fr"] == 3


def test_a_mobile_under_a_maiden_and_a_married_name_is_held_by_one_person() -> None:
    """Her maiden name on an old loyalty card, her married name at the CRM, a typo in it at the
    call center, her names swapped on the web: one woman's mobile, as rare as a value seen once;
    a household's landline (two given names) and a placeholder stay shared."""
    mobile = "+33624008195"
    hers = [
        _record("loyalty:1", given_name="Nicole", family_name="Vauiler", phone=mobile),
        _record("crm:1", given_name="Nicole", family_name="Lefèvre", phone=mobile),
        _record("callcenter:1", given_name="Nicole", family_name="Lefebre", phone=mobile),
        _record("web:1", given_name="Lefèvre", family_name="Nicole", phone=mobile),
    ]
    household = [
        _record("crm:2", given_name="Jean", family_name="Morel", phone="+33145678901"),
        _record("crm:3", given_name="Anne", family_name="Morel", phone="+33145678901"),
    ]
    placeholder = [
        _record(f"shop:{k}", given_name=given, family_name=family, phone="+33600000000")
        for k, (given, family) in enumerate([("Jean", "Roy"), ("Luc", "Petit"), ("Sophie", "Petit")])
    ]
    counts = value_counts(hers + household + placeholder, comparisons_for(()))["phone"]
    assert mobile not in counts
    assert counts == {"+33145678901": 2, "+33600000000": 3}


def test_a_couple_whose_given_names_sound_alike_are_two_holders_of_their_mailbox() -> None:
    """Jean Martin and Jeanne Dupont (not married, or she kept her name) share one mailbox, Michel
    Roux and Michèle Blanc one mobile: two people each, so the value weighs as a shared one and does
    not pull the couple into one customer."""
    couple = [
        _record("crm:1", given_name="Jean", family_name="Martin", email="famille.martin@orange.fr"),
        _record("web:1", given_name="Jeanne", family_name="Dupont", email="famille.martin@orange.fr"),
        _record("crm:2", given_name="Michel", family_name="Roux", phone="+33612345678"),
        _record("web:2", given_name="Michèle", family_name="Blanc", phone="+33612345678"),
    ]
    assert value_counts(couple, comparisons_for(()))["email"] == {"famille.martin@orange.fr": 2}
    assert value_counts(couple, comparisons_for(()))["phone"] == {"+33612345678": 2}


def test_a_birth_date_one_day_off_is_a_slip_not_a_namesake() -> None:
    a = _record(given_name="André", family_name="Coronade", birth_date="1975-01-29", postcode="33000")
    b = _record(given_name="André", family_name="Coronade", birth_date="1975-01-30", postcode="33000")
    assert clearly_different_people(a, b) is None
    assert clearly_different_people(a, _record(given_name="André", family_name="Coronade", birth_date="1975-03-12")) is not None


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"given_name": "Paul", "family_name": "Fournier"}, {"given_name": "Paul", "family_name": "Fournidr"}),  # a neighbour key
        ({"given_name": "Paul", "family_name": "Fournier"}, {"given_name": "Paul", "family_name": "Furnier"}),  # a letter dropped
        ({"given_name": "Gwendoline", "family_name": "Kerherve"}, {"given_name": "Gwendoline", "family_name": "Kerhreve"}),  # swapped
        ({"given_name": "Mathieu", "family_name": "Lebrun"}, {"given_name": "Lebrun", "family_name": "Matthieu"}),  # names swapped too
        ({"given_name": "Anne", "family_name": "Quéré", "birth_name": "Le Goff"}, {"given_name": "Anne", "family_name": "Le Gof"}),
        (
            {"given_name": "Jade", "family_name": "Pelonaud", "postcode": "32266"},
            {"given_name": "Jdae", "family_name": "Pelomaud", "postcode": "32266"},
        ),  # a typo in each
    ],
)
def test_records_sharing_only_names_one_keystroke_apart_meet(one: dict, other: dict) -> None:
    assert set(blocking_keys(_record("crm:1", email="a@x.fr", **one))) & set(
        blocking_keys(_record("callcenter:2", phone="+33612345678", **other))
    )


def test_names_more_than_one_keystroke_apart_and_nothing_else_do_not_meet() -> None:
    one, other = _record("crm:1", given_name="Paul", family_name="Fournier"), _record("crm:2", given_name="Paul", family_name="Fourcade")
    # They share the one-sided key of "Paul F" (search.resolve.blocking.KeyRule.pairs_need), which
    # pairs only a record holding an initial: never compared.
    assert not len(candidate_pairs([one, other], max_block_size=60).pairs)


@pytest.mark.parametrize(("namesakes", "paired"), [(3, True), (12, False)])
def test_a_name_with_a_typo_meets_a_few_namesakes_but_not_a_crowd_of_them(namesakes: int, paired: bool) -> None:
    records = [_record(f"crm:{k}", given_name="Paul", family_name="Fournier", email=f"p{k}@x.fr") for k in range(namesakes)]
    records.append(_record("loyalty:typo", given_name="Paul", family_name="Fournidr"))
    pairs = candidate_pairs(records, max_block_size=60, max_name_block_size=10).pairs
    assert (namesakes in pairs) is paired  # past the name block bound, a name alone cannot tell which Paul Fournier


@pytest.mark.parametrize(
    ("one", "other", "level"),
    [
        ("philippe.bernard@gmail.com", "philippe.bernadr@gmail.com", 4),  # two letters swapped: two edits
        ("philippe.bernard@gmail.com", "philippe.bernrd@gmail.com", 2),  # a letter dropped
        ("philippe.bernard@gmail.com", "philippe.bermard@gmail.com", 2),  # a neighbour key
        ("philippebernard@gmail.com", "philippe_bernard@gmail.com", 4),  # a separator: another namesake's mailbox
        ("philippe.bernard@gmail.com", "philippe-bernard@gmail.com", 4),
        ("philippe.bernard2@gmail.com", "philippe.bernard@gmail.com", 4),  # a number: another namesake's mailbox
    ],
)
def test_a_mistyped_letter_in_an_email_is_a_typo_and_a_separator_or_a_number_is_another_mailbox(one: str, other: str, level: int) -> None:
    # 2 is "one typo", 4 "different" (3 is one mailbox name at two providers)
    assert email_level(_record(email=one), _record(email=other)) == level


def test_a_household_in_one_postcode_is_not_compared_on_its_family_name_alone() -> None:
    household = [
        _record(f"crm:{k}", given_name=given, family_name="Dupontel", postcode="35400", phone=f"+3361234560{k}")
        for k, given in enumerate(("Jean", "Marie", "Luc", "Zoé"))
    ]
    assert not len(candidate_pairs(household, max_block_size=60).pairs)


def test_an_initial_never_makes_two_full_names_candidates() -> None:
    family = [_record(f"crm:{k}", given_name=given, family_name="Vauquelin") for k, given in enumerate(("Sandrine", "Sophie", "Sylvie"))]
    initial = _record("loyalty:9", given_name="S", family_name="Vauquelin")
    pairs = candidate_pairs([*family, initial], max_block_size=60).pairs
    assert sorted(map(tuple, pairs.tolist())) == [(0, 3), (1, 3), (2, 3)]


def _customers_of(records: list[RecordFeatures]) -> set[frozenset[str]]:
    labels = resolve_records(records, ResolutionConfig()).clustering.labels
    groups: dict[int, set[str]] = {}
    for record, label in zip(records, labels, strict=True):
        groups.setdefault(int(label), set()).add(record.record_id)
    return {frozenset(group) for group in groups.values()}


def test_the_customers_do_not_depend_on_the_order_the_records_come_in() -> None:
    # Three records of one e-mail and postcode, two given names each one keystroke from the first
    # and two from each other: every pair scores alike, only one of the two typos may join "Lisa".
    # Which one must not depend on the order records are loaded (a full run reads them in index
    # order, a real-time neighbourhood in id order, an undo re-resolves its neighbourhood): else
    # an undo does not give back the customers the full run made.
    trio = [
        _record(
            "web:1", given_name="Lisa", family_name="Duroux", birth_date="2002-10-30", postcode="88176", email="lisa.duroux444@yahoo.fr"
        ),
        _record("shop_a:7", given_name="Losa", family_name="Duroux", postcode="88176", email="lisa.duroux444@yahoo.fr"),
        _record("shop_b:3", given_name="Lia", family_name="Duroux", postcode="88176", email="lisa.duroux444@yahoo.fr"),
    ]
    seen = {frozenset(map(frozenset, _customers_of(list(order)))) for order in permutations(trio)}
    assert len(seen) == 1


def test_namesakes_in_one_postcode_on_other_streets_share_nothing_but_their_names() -> None:
    # Two "Lachlan Nguyen" in one postcode, each at his own street: a namesake shares that much.
    # The link rests on the names, and joins only where no other customer fits (clustering).
    one = _record("crm:1", given_name="Lachlan", family_name="Nguyen", postcode="5046", street="12 rue des Lilas")
    other = _record("web:2", given_name="Lachlan", family_name="Nguyen", postcode="5046", street="3 avenue Foch")
    unknown_street = _record("web:3", given_name="Lachlan", family_name="Nguyen", postcode="5046")
    comparisons = comparisons_for(())
    address = [c.name for c in comparisons].index("address")
    apart, street_unknown = comparison_vector(one, other, comparisons), comparison_vector(one, unknown_street, comparisons)
    assert comparisons[address].levels[apart[address]] == "same postcode, another street"
    assert comparisons[address].levels[street_unknown[address]] == "same postcode"
    assert names_alone(np.array([apart, street_unknown], dtype=np.int8), comparisons).tolist() == [True, False]


def test_two_records_sharing_no_key_are_no_candidates_and_nothing_breaks() -> None:
    # Two strangers of one town: the gated keys' blocks hold them, their gates pass no pair.
    records = [
        features_from_document({"record_id": f"crm:{n}", "given_name": given, "family_name": family, "city": "lyon"})
        for n, (given, family) in enumerate((("Sophie", "Tardieu"), ("Sandrine", "Tesin")))
    ]
    assert len(candidate_pairs(records, ResolutionConfig().max_block_size).pairs) == 0
