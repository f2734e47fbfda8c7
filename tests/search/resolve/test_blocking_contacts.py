"""Blocking keys on what a customer types himself (issue 16, candidate side): an e-mail made of his
names meets the record written with them when the names on his own record are mistyped or have
changed, and a phone one digit off meets the phone, both only while nothing says two people. Pure:
the real node's side (the push's candidate search) is in test_blocking_typos.py."""

from __future__ import annotations

from typing import Any

from search.resolve.candidates import candidate_pairs
from search.resolve.config import MAX_NAME_BLOCK_SIZE, ResolutionConfig
from search.resolve.features import RecordFeatures, features_from_document


def _record(record_id: str, **fields: Any) -> RecordFeatures:
    # As a record is stored: its phone in E.164.
    return features_from_document({"record_id": record_id, "source": record_id.partition(":")[0], **fields})


def _compared(*records: RecordFeatures) -> list[list[int]]:
    return candidate_pairs(list(records), ResolutionConfig().max_block_size).pairs.tolist()


def test_an_agent_s_slips_in_both_names_still_meet_the_record_her_own_e_mail_names() -> None:
    # The e-commerce record holds the e-mail she typed; the agent typed both names wrong.
    typed = _record("ecommerce:1", given_name="Aaines", family_name="Rjevex", email="rieves.ines@yahoo.fr")
    written = _record("crm:1", given_name="Ines", family_name="Rieves", birth_date="1942-04-22", phone="+33759133968", postcode="64749")
    assert _compared(typed, written) == [[0, 1]]


def test_a_married_woman_s_maiden_name_kept_in_her_e_mail_meets_her_older_record() -> None:
    older = _record("crm:1", civility="Mme", given_name="Laura", family_name="Jouilot", birth_date="1957-04-18", postcode="44000")
    married = _record("ecommerce:1", given_name="Laura", family_name="Peranoux", email="laura.jouilot12@free.fr", postcode="13006")
    assert _compared(older, married) == [[0, 1]]


def test_a_namesake_of_another_generation_or_sex_whose_e_mail_reads_the_same_names_is_not_compared() -> None:
    mother = _record("crm:1", civility="Mme", given_name="Laura", family_name="Jouilot", birth_date="1957-04-18", postcode="44000")
    daughter = _record(
        "ecommerce:1", given_name="Laura", family_name="Peranoux", birth_date="1990-02-03", email="laura.jouilot@free.fr", postcode="13006"
    )
    man = _record("ecommerce:2", civility="M.", given_name="Dominique", family_name="Peranoux", email="dominique.jouilot@free.fr")
    woman = _record("crm:2", civility="Mme", given_name="Dominique", family_name="Jouilot", postcode="44000")
    assert _compared(mother, daughter) == []
    assert _compared(man, woman) == []


def test_a_mailbox_meets_no_one_among_more_namesakes_than_a_name_block_holds() -> None:
    # Past max_name_block_size records holding the names, the names alone cannot tell which of them
    # the mailbox is, and comparing it with all of them would cost quadratically.
    namesakes = [_record(f"crm:{k}", given_name="Laura", family_name="Jouilot") for k in range(MAX_NAME_BLOCK_SIZE)]
    mailbox = _record("ecommerce:1", given_name="Lora", family_name="Peranoux", email="laura.jouilot@free.fr")
    assert _compared(mailbox, *namesakes[:2]) == [[0, 1], [0, 2], [1, 2]]
    assert all(0 not in pair for pair in _compared(mailbox, *namesakes))


def test_a_mistyped_mobile_meets_the_mobile_of_a_record_whose_names_are_slips_of_its_own() -> None:
    written = _record("crm:1", given_name="Catherine", family_name="Gereau", birth_date="1944-11-01", phone="+33657819794")
    typed = _record("callcenter:1", given_name="Catheribe", family_name="Greaeu", phone="+33657819784")
    swapped = _record("callcenter:2", given_name="Catherine", family_name="Greaeu", phone="+33657819974")
    assert _compared(written, typed) == [[0, 1]]
    assert _compared(written, swapped) == [[0, 1]]


def test_a_stranger_whose_mobile_is_one_digit_off_is_not_compared() -> None:
    # At a million records, about every other mobile has a stranger's one digit away.
    paul = _record("crm:1", civility="M.", given_name="Paul", family_name="Martin", phone="+33657819794")
    sophie = _record("callcenter:1", civility="Mme", given_name="Sophie", family_name="Leroy", phone="+33657819784")
    # A father and his son, numbers of one family's plan: the family name agrees, the birth dates do not.
    father = _record("crm:2", given_name="Pierre", family_name="Martin", birth_date="1961-05-06", phone="+33657819794")
    son = _record("crm:3", given_name="Paul", family_name="Martin", birth_date="1998-05-06", phone="+33657819784")
    assert _compared(paul, sophie) == []
    assert _compared(father, son) == []


def test_two_undated_brothers_whose_mobiles_are_one_digit_off_are_not_compared() -> None:
    # Nothing known of both says two people (no civility, no birth date): only their given names,
    # which are not a typo apart, tell a family's plan from one man's mistyped mobile.
    pierre = _record("crm:1", given_name="Pierre", family_name="Martin", phone="+33657819794")
    paul = _record("callcenter:1", given_name="Paul", family_name="Martin", phone="+33657819784")
    assert _compared(pierre, paul) == []
