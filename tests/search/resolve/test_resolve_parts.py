"""The pure parts of resolution: comparisons, ids and survivorship, without a node."""

from __future__ import annotations

from search.resolve.blocking import blocking_keys
from search.resolve.comparisons import (
    BASE_COMPARISONS as COMPARISONS,
)
from search.resolve.comparisons import (
    NULL,
    birth_date_level,
    clearly_different_people,
    email_level,
    family_name_level,
    given_name_level,
)
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.ids import assign_ids
from search.resolve.survivorship import golden_record


def _record(record_id: str = "crm:1", **fields: str) -> object:
    return features_from_document({"record_id": record_id, "source": record_id.split(":")[0], **fields})


def test_swapped_given_and_family_names_still_agree() -> None:
    a = _record(given_name="Jean", family_name="Dupont")
    b = _record(given_name="DUPONT", family_name="jean")
    assert (given_name_level(a, b), family_name_level(a, b)) == (0, 0)


def test_a_married_name_meets_the_maiden_name() -> None:
    married = _record(given_name="Hélène", family_name="Lefèvre", birth_name="Martin")
    maiden = _record(given_name="Helene", family_name="MARTIN")
    assert family_name_level(married, maiden) == 0


def test_nicknames_and_short_forms_of_compound_given_names_are_compatible() -> None:
    full = _record(given_name="Jean-Pierre", family_name="Durand")
    assert given_name_level(full, _record(given_name="JP", family_name="Durand")) == 1
    assert given_name_level(full, _record(given_name="Jean", family_name="Durand")) == 1


def test_birth_dates_tolerate_a_day_month_swap_and_one_digit() -> None:
    base = _record(birth_date="1980-05-07")
    assert birth_date_level(base, _record(birth_date="1980-07-05")) == 1
    assert birth_date_level(base, _record(birth_date="1980-05-08")) == 1
    assert birth_date_level(_record(birth_date="1918-07-01"), _record(birth_date="1981-07-01")) == 1  # neighbours swapped
    assert birth_date_level(_record(birth_date="1918-07-01"), _record(birth_date="1961-07-01")) == 3
    assert birth_date_level(base, _record(birth_date="1980-11-23")) == 2
    assert birth_date_level(base, _record()) == NULL


def test_the_same_mailbox_name_at_another_provider_is_a_level_of_its_own_not_the_same_address() -> None:
    levels = COMPARISONS[3].levels
    moved = email_level(_record(email="jean.dupont52@wanadoo.fr"), _record(email="jean.dupont52@orange.fr"))
    assert levels[moved] == "same mailbox, another provider"
    # A mailbox made of the names alone is every namesake's at his own provider.
    jean = {"given_name": "Jean", "family_name": "Dupont"}
    for mailbox in ("jean.dupont", "dupont_jean", "jdupont", "dupont"):
        one, other = _record(email=f"{mailbox}@wanadoo.fr", **jean), _record(email=f"{mailbox}@orange.fr", **jean)
        assert levels[email_level(one, other)] == "different", mailbox
    kept = email_level(_record(email="loulou.dupont@wanadoo.fr", **jean), _record(email="loulou.dupont@orange.fr", **jean))
    assert levels[kept] == "same mailbox, another provider"
    assert email_level(_record(email="jean.dupont@gmail.com"), _record(email="jean.dupond@gmail.com")) == 2  # one typo
    # A mailbox name too short to be its owner's choice says nothing at another provider.
    assert levels[email_level(_record(email="info@garage-roux.fr"), _record(email="info@orange.fr"))] == "different"
    assert levels[email_level(_record(email="jean.dupont@gmail.com"), _record(email="marie.roux@gmail.com"))] == "different"


def test_namesakes_writing_their_own_names_at_two_providers_have_different_e_mails() -> None:
    levels = COMPARISONS[3].levels
    # Each pair: two namesakes' records, the one mailbox name spelled from their names.
    shapes = [
        ({"given_name": "Jaen", "family_name": "Dupont"}, {"given_name": "Jean", "family_name": "Dupont"}, "jean.dupont"),  # a typo
        ({"given_name": "J", "family_name": "Dupont"}, {"given_name": "Jean", "family_name": "Dupont"}, "jean.dupont"),  # an initial
        ({"given_name": "Jean-Pierre", "family_name": "Dupont"}, {"given_name": "Jean-Pierre", "family_name": "Dupont"}, "jp.dupont"),
        ({"given_name": "Marie", "family_name": "Dupont-Martin"}, {"given_name": "Marie", "family_name": "Dupont"}, "marie.dupont"),
        ({"given_name": "Jean", "family_name": "Dupont"}, {"given_name": "Jean", "family_name": "Dupont"}, "dupont.jean.pro"),
    ]
    for one, other, mailbox in shapes:
        x, y = _record(email=f"{mailbox}@orange.fr", **one), _record(email=f"{mailbox}@gmail.com", **other)
        assert levels[email_level(x, y)] == "different", mailbox
    # A typo of the names in the mailbox itself, and initials run together, are still the names.
    jean_pierre = {"given_name": "Jean-Pierre", "family_name": "Dupont"}
    for mailbox in ("jaen.dupont", "jpdupont", "dupont.jeanp"):
        x, y = _record(email=f"{mailbox}@orange.fr", **jean_pierre), _record(email=f"{mailbox}@gmail.com", **jean_pierre)
        assert levels[email_level(x, y)] == "different", mailbox
    # A word of her own beside her given name makes the mailbox hers: it follows her to another provider.
    sandrine = {"given_name": "Sandrine", "family_name": "Lepetit"}
    for mailbox in ("tournesol.sandrine", "sandrine.lp", "tigrou.lepetit"):
        x, y = _record(email=f"{mailbox}@wanadoo.fr", **sandrine), _record(email=f"{mailbox}@orange.fr", **sandrine)
        assert levels[email_level(x, y)] == "same mailbox, another provider", mailbox


def test_household_members_and_homonyms_are_clearly_different_people() -> None:
    helene = _record(civility="Mme", given_name="Hélène", family_name="Lefèvre", birth_date="1980-05-17")
    assert clearly_different_people(helene, _record(civility="M.", given_name="Marc", family_name="Lefèvre"))
    assert clearly_different_people(helene, _record(civility="Mme", given_name="Hélène", family_name="Lefèvre", birth_date="1955-01-20"))
    assert clearly_different_people(_record(civility="M.", given_name="Jean"), _record(civility="Mme", given_name="Jeanne"))
    assert (
        clearly_different_people(helene, _record(civility="Mme", given_name="Helene", family_name="Lefebvre", birth_date="1980-05-17"))
        is None
    )


def test_a_configured_identifier_outweighs_a_mistyped_birth_date() -> None:
    a = features_from_document(
        {"record_id": "a:1", "source": "a", "given_name": "Jack", "birth_date": "1989-05-26", "attributes": {"nir": "1890575123456"}},
        ("nir",),
    )
    b = features_from_document(
        {"record_id": "b:1", "source": "b", "given_name": "Jack", "birth_date": "1983-02-23", "attributes": {"nir": "1890575123456"}},
        ("nir",),
    )
    assert clearly_different_people(a, b) is None
    assert "id:nir:1890575123456" in blocking_keys(a)


def test_never_merge_rules_can_be_turned_off_for_data_without_households() -> None:
    chloe = _record(given_name="Chloe", family_name="Pantazopoulos", birth_date="1986-08-07")
    eboni = _record("crm:2", given_name="Eboni", family_name="Pantazopoulos", birth_date="1986-08-07")
    assert clearly_different_people(chloe, eboni) == "different given names"
    assert clearly_different_people(chloe, eboni, frozenset(ResolutionConfig(never_merge=[]).never_merge)) is None
    assert clearly_different_people(chloe, eboni, frozenset({"different_birth_dates"})) is None


def test_records_at_one_numbered_address_or_with_identifiers_one_keystroke_apart_are_candidates() -> None:
    a = _record(given_name="Laura", family_name="Hefford", street="3 partridge street", postcode="6530", city="Banksia")
    b = _record("crm:2", given_name="Laur A", family_name="Heford", street="3 partridge street", postcode="6530", city="Bansia")
    assert set(blocking_keys(a)) & set(blocking_keys(b))
    x = features_from_document({"record_id": "a:1", "source": "a", "family_name": "Flatman", "attributes": {"nir": "9564208"}}, ("nir",))
    y = features_from_document({"record_id": "b:1", "source": "b", "family_name": "Flatan", "attributes": {"nir": "9564028"}}, ("nir",))
    assert set(blocking_keys(x)) & set(blocking_keys(y))


def test_ids_survive_a_rerun_and_a_merge_keeps_the_larger_customers_id() -> None:
    ids, events = assign_ids([["r1", "r2", "r3"]], {"r1": "CA", "r2": "CA", "r3": "CB"})
    assert ids == ["CA"] and [(e.old_id, e.new_id, e.kind) for e in events] == [("CB", "CA", "merge")]
    again, none = assign_ids([["r1", "r2"], ["r3"]], {"r1": "CA", "r2": "CA", "r3": "CB"})
    assert again == ["CA", "CB"] and none == []


def test_a_split_leaves_the_id_with_the_larger_part_and_records_where_the_rest_went() -> None:
    ids, events = assign_ids([["r1", "r2"], ["r3"]], {"r1": "CA", "r2": "CA", "r3": "CA"})
    assert ids[0] == "CA" and ids[1] != "CA"
    assert [(e.old_id, e.new_id, e.kind) for e in events] == [("CA", ids[1], "split")]


def test_new_ids_are_reproducible_from_the_same_records() -> None:
    assert assign_ids([["crm:1", "web:9"]], {})[0] == assign_ids([["web:9", "crm:1"]], {})[0]


def test_survivorship_prefers_the_crm_for_names_and_the_newest_contact_points() -> None:
    records = [
        {
            "record_id": "ecommerce:1",
            "source": "ecommerce",
            "updated_at": "2026-01-01T00:00:00+00:00",
            "given_name": "Helene",
            "family_name": "LEFEVRE",
            "phone": "+33611111111",
            "city": "Lyon",
            "postcode": "69002",
        },
        {
            "record_id": "crm:1",
            "source": "crm",
            "updated_at": "2024-01-01T00:00:00+00:00",
            "given_name": "Hélène",
            "family_name": "Lefèvre",
            "phone": "+33622222222",
            "city": "Paris",
            "postcode": "75011",
        },
        {"record_id": "callcenter:1", "source": "callcenter", "updated_at": "2025-01-01T00:00:00+00:00", "birth_date": "1980-05-17"},
    ]
    golden = golden_record(records, ResolutionConfig())
    assert (golden["given_name"], golden["family_name"]) == ("Hélène", "Lefèvre")
    assert golden["provenance"]["given_name"] == {
        "record_id": "crm:1",
        "source": "crm",
        "updated_at": "2024-01-01T00:00:00+00:00",
        "rule": "source_priority",
    }
    assert golden["birth_date"] == "1980-05-17" and golden["provenance"]["birth_date"]["rule"] == "most_recent"
    assert golden["phones"] == ["+33611111111", "+33622222222"]
    assert [a["city"] for a in golden["addresses"]] == ["Lyon", "Paris"]
