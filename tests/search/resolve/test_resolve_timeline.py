"""The same person seen by two systems years apart: an old e-mail provider, a married name with no
maiden name recorded. Real node: the full run and the real-time path."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.push import RecordPusher
from search.indices import IndexNames
from search.resolve.blocking import KEY_RULES, given_within_a_typo_one_sex
from search.resolve.candidates import candidate_pairs
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.pipeline import resolve_all
from search.resolve.realtime import RealTimeResolver
from tests.conftest import Ingest, Resolved, customer_assignment

# A legacy export from before wanadoo.fr became orange.fr, and today's e-commerce account: the
# mailbox name kept, the provider, the phone and the postcode changed, the town the same.
LEGACY = {"source": "legacy", "source_id": "GA1", "given_name": "Gisèle", "family_name": "Arnaudeau",
          "email": "gisele.arnaudeau52@wanadoo.fr", "phone": "02 41 87 66 10", "postcode": "49100", "city": "Angers"}  # fmt: skip
TODAY = {"source": "ecommerce", "source_id": "GA2", "given_name": "Gisèle", "family_name": "Arnaudeau",
         "email": "gisele.arnaudeau52@orange.fr", "phone": "06 71 44 20 93", "postcode": "49000", "city": "Angers"}  # fmt: skip
# The same names and town, another mailbox at the new provider: nothing says one person.
NAMESAKE = {**TODAY, "source_id": "GA3", "email": "g.arnaudeau@orange.fr", "phone": "06 12 90 33 71", "postcode": "49070"}


def _id(document: dict[str, Any]) -> str:
    return f"{document['source']}:{document['source_id']}"


def test_an_old_provider_e_mail_with_the_same_mailbox_joins_its_customer_in_a_full_run(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(resolved.demo, [LEGACY, TODAY])
    resolve_all(opensearch, names, ResolutionConfig())
    customer = customer_assignment(opensearch, names)
    assert customer[_id(LEGACY)] == customer[_id(TODAY)]


def test_an_old_provider_e_mail_joins_in_real_time_and_another_mailbox_does_not(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(resolved.demo, [LEGACY])
    config = ResolutionConfig()
    resolve_all(opensearch, names, config)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    pusher.push(SourceRecord.model_validate(TODAY))
    pusher.push(SourceRecord.model_validate(NAMESAKE))
    customer = customer_assignment(opensearch, names)
    assert customer[_id(TODAY)] == customer[_id(LEGACY)]
    assert customer[_id(NAMESAKE)] != customer[_id(LEGACY)]


# A married woman today, and a legacy record from before her marriage under her maiden name (no
# maiden name recorded anywhere): the link is her given name, her birth date and her old mobile,
# which the CRM still holds.
MARRIED = [
    {"source": "crm", "source_id": "SV1", "civility": "Mme", "given_name": "Sandrine", "family_name": "Vautrin",
     "birth_date": "1978-04-12", "phone": "06 48 21 93 57", "email": "sandrine.vautrin@gmail.com",
     "street": "14 rue des Tanneurs", "postcode": "67000", "city": "Strasbourg"},
    {"source": "ecommerce", "source_id": "SV2", "given_name": "Sandrine", "family_name": "Vautrin",
     "email": "sandrine.vautrin@gmail.com", "phone": "07 81 30 44 12", "postcode": "67000", "city": "Strasbourg"},
]  # fmt: skip
MAIDEN = {"source": "legacy", "source_id": "SK1", "civility": "Mme", "given_name": "Sandrine", "family_name": "Kessler",
          "birth_date": "1978-04-12", "phone": "06 48 21 93 57", "postcode": "68100", "city": "Mulhouse"}  # fmt: skip
# Another Sandrine born the same day, another family name, no phone, e-mail or card in common.
BORN_SAME_DAY = {"source": "loyalty", "source_id": "SB1", "given_name": "Sandrine", "family_name": "Bertin",
                 "birth_date": "1978-04-12", "postcode": "68000", "city": "Colmar"}  # fmt: skip
# Twins: one birth date, one family name, one address and the household's landline.
TWINS = [
    {"source": "crm", "source_id": "TW1", "civility": "M.", "given_name": "Lucas", "family_name": "Marchetti",
     "birth_date": "2004-09-03", "phone": "03 88 45 12 70", "street": "5 rue du Moulin", "postcode": "67100", "city": "Strasbourg"},
    {"source": "ecommerce", "source_id": "TW2", "civility": "M.", "given_name": "Hugo", "family_name": "Marchetti",
     "birth_date": "2004-09-03", "phone": "03 88 45 12 70", "street": "5 rue du Moulin", "postcode": "67100", "city": "Strasbourg"},
]  # fmt: skip


def test_a_married_woman_s_maiden_name_record_joins_her_customer_through_her_old_phone_and_birth_date(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(resolved.demo, [*MARRIED, MAIDEN, BORN_SAME_DAY, *TWINS])
    config = ResolutionConfig()
    resolve_all(opensearch, names, config)
    customer = customer_assignment(opensearch, names)
    assert customer[_id(MAIDEN)] == customer[_id(MARRIED[0])] == customer[_id(MARRIED[1])]
    assert customer[_id(BORN_SAME_DAY)] != customer[_id(MAIDEN)]
    assert customer[_id(TWINS[0])] != customer[_id(TWINS[1])]


def test_a_maiden_name_record_pushed_in_real_time_joins_her_customer_and_twins_stay_apart(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(resolved.demo, MARRIED)
    config = ResolutionConfig()
    resolve_all(opensearch, names, config)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    for document in (MAIDEN, BORN_SAME_DAY, *TWINS):
        pusher.push(SourceRecord.model_validate(document))
    customer = customer_assignment(opensearch, names)
    assert customer[_id(MAIDEN)] == customer[_id(MARRIED[0])]
    assert customer[_id(BORN_SAME_DAY)] != customer[_id(MAIDEN)]
    assert customer[_id(TWINS[0])] != customer[_id(TWINS[1])]


def test_a_married_name_with_a_typo_in_the_given_name_and_the_same_birth_date_is_compared_and_twins_are_not() -> None:
    # No name sound, no family name, no place in common: only the birth date and the given name's
    # first letter with a slip in it. Twins of one initial are not compared through that key.
    records = [
        features_from_document({"record_id": "crm:1", "source": "crm", "civility": "Mme", "given_name": "Nathalie",
                                "family_name": "Vasseur", "birth_date": "1971-06-30", "postcode": "59000"}),
        features_from_document({"record_id": "legacy:2", "source": "legacy", "given_name": "Nathlaie",
                                "family_name": "Greonand", "birth_date": "1971-06-30", "city": "Arras"}),
        features_from_document({"record_id": "crm:3", "source": "crm", "civility": "M.", "given_name": "Lucas",
                                "family_name": "Marchetti", "birth_date": "2004-09-03", "postcode": "67100"}),
        features_from_document({"record_id": "web:4", "source": "web", "given_name": "Louis",
                                "family_name": "Marchetti", "birth_date": "2004-09-03", "city": "Colmar"}),
    ]  # fmt: skip
    pairs = {tuple(pair) for pair in candidate_pairs(records, max_block_size=60).pairs.tolist()}
    assert (0, 1) in pairs
    # The twins are compared through their family name and birth date, and the never-merge rule
    # holds them apart; the birth date with an initial adds no pair of theirs.
    shared = {rule.kind for rule in KEY_RULES if set(rule.keys(records[2])) & set(rule.keys(records[3]))}
    assert "birth date+given initial" in shared and not given_within_a_typo_one_sex(records[2], records[3])
