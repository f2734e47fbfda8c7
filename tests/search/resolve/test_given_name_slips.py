"""A given name mistyped on each of two records is one name, not two (issue 16, item 6: never-merge
rules fire only on names that are truly different). "Gerrard" (a doubled letter) and "Jerarf" (a
keyboard slip and a sound) are both Gérard, three keystrokes apart from each other: the given-name
level reads them as different, and the rule on different given names held the two records apart
although they share a birth date, a mailbox one letter off and a postcode. Pure rule first, then a
real node, in a full run and in real time, in both arrival orders."""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.comparisons import (
    NAME_DIFFERENT,
    clearly_different_people,
    given_name_level,
    one_name_written_two_ways,
    own_names_read_in,
    short_form,
    within_a_slip,
)
from search.resolve.features import RecordFeatures, features_from_document
from tests.conftest import Ingest, Resolved, pushed_then_full_run

OWN_NAMES = frozenset({"gerard", "herve", "lucas", "emma", "anna", "h"})
HOME = {"family_name": "Dumont", "postcode": "32767", "city": "Lectoure"}


def _record(record_id: str, **fields: str) -> RecordFeatures:
    return features_from_document({"record_id": record_id, "source": record_id.split(":")[0], **HOME, **fields})


def test_two_slips_of_one_given_name_are_not_two_people_for_the_never_merge_rule() -> None:
    for first, second in (("Gerrard", "Jerarf"), ("Lucass", "Ljccas"), ("H", "Jerve")):
        a = _record("crm:1", given_name=first, birth_date="1994-10-19", phone="0611111111")
        b = _record("ecommerce:2", given_name=second, birth_date="1994-10-19", phone="0622222222")
        assert given_name_level(a, b) == NAME_DIFFERENT  # the names' level alone cannot tell
        assert one_name_written_two_ways(a.given, b.given, OWN_NAMES)
        assert clearly_different_people(a, b, given_names=OWN_NAMES) is None
        # With no names of their own known (small data), the rule holds as before.
        assert clearly_different_people(a, b) == "different given names"


def test_twins_with_two_names_of_their_own_stay_two_people() -> None:
    # Emma and Anna: one birth date, one address, one household line; each a name of its own.
    emma = _record("crm:1", given_name="Emma", birth_date="2004-03-02", phone="+33298765432", street="4 rue des Lilas")
    anna = _record("ecommerce:2", given_name="Anna", birth_date="2004-03-02", phone="+33298765432", street="4 rue des Lilas")
    assert not one_name_written_two_ways(emma.given, anna.given, OWN_NAMES)
    assert clearly_different_people(emma, anna, given_names=OWN_NAMES) == "different given names"
    # An initial written under many families is no name of its own: "H" is no reading of "Anna".
    assert not one_name_written_two_ways("h", "anna", OWN_NAMES)
    # A long name is not a way of writing a short one ("Jeannine" is not Jean mistyped).
    assert not one_name_written_two_ways("jeannine", "jaen", OWN_NAMES | {"jean"})


def test_the_names_a_spelling_may_stand_for_are_found_by_the_index_as_by_reading_every_name() -> None:
    own = OWN_NAMES | {"jean pierre", "christophe", "marie", "mathieu", "martine", "nathalie"}
    spellings = ["gerrard", "jerarf", "hrve", "j p", "jp", "christ", "pierre", "mraie", "mathiue", "nathaie", "emma", "h", "zoe"]
    for spelling in spellings:
        every_name = {
            name
            for name in own
            if len(name.replace(" ", "")) > 2
            and (
                (abs(len(name) - len(spelling)) <= 2 and within_a_slip(spelling, name))
                or (len(spelling) < len(name) and short_form(spelling, name))
            )
        }
        expected = {spelling} if spelling in own and len(spelling) > 2 else every_name
        assert own_names_read_in(spelling, own) == expected, spelling


# One man, two systems: the CRM's "Gerrard" (a doubled letter) and the e-commerce account's
# "Jerarf" (a keyboard slip), one birth date, one postcode, his mailbox one letter off, no phone in
# common. Gérard is a name of its own in the demo's data (written under many family names).
CRM = {"source": "crm", "source_id": "GD1", "given_name": "Gerrard", "family_name": "Dumont", "birth_date": "1961-10-19",
       "email": "ddumont1961693@laposte.net", "phone": "06 73 86 18 59", "street": "2 bis place Saint-Martin",
       "postcode": "32700", "city": "Lectoure"}  # fmt: skip
WEB = {"source": "ecommerce", "source_id": "GD2", "given_name": "Jerarf", "family_name": "Dumont", "birth_date": "1961-10-19",
       "email": "dumont1961693@laposte.net", "postcode": "32700", "city": "Lectoure"}  # fmt: skip
STORY = {f"{d['source']}:{d['source_id']}": d for d in (CRM, WEB)}


@pytest.mark.parametrize("order", [list(STORY), list(STORY)[::-1]], ids=["crm-first", "ecommerce-first"])
def test_a_given_name_mistyped_on_each_record_joins_one_customer_in_real_time_and_in_a_full_run(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = pushed_then_full_run(STORY.values(), order, resolved, opensearch, ingest, names)
    for customer in (real_time, full_run):
        assert customer["crm:GD1"] == customer["ecommerce:GD2"]
