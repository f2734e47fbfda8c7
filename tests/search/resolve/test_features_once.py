"""FeaturesOnce: a neighbourhood's features computed once per record version (pure, no node)."""

from search.resolve.features import FeaturesOnce, features_from_document


def _record(**fields: str) -> dict[str, str]:
    return {
        "record_id": "crm:1",
        "source": "crm",
        "updated_at": "2026-11-01T10:00:00+00:00",
        "given_name": "Marie",
        "family_name": "Dupont",
        "phone": "+33612345678",
        **fields,
    }


def test_record_updated_during_a_push_is_scored_as_the_version_met() -> None:
    # A concurrent push updates the record between two searches of one neighbourhood: the
    # neighbourhood's scoring must read the later document's features, not the first met.
    first = _record()
    later = _record(updated_at="2026-11-02T09:00:00+00:00", family_name="Martin", phone="+33698765432")
    once = FeaturesOnce()
    assert once.of(first).family == "dupont"
    assert once.of(later) == features_from_document(later)
    assert once.of(first) == features_from_document(first)


def test_correction_sent_under_the_same_date_is_scored() -> None:
    # A source may correct a field without moving updated_at: the document, not its date, is the version.
    first = _record()
    corrected = _record(given_name="Marion")
    once = FeaturesOnce()
    once.of(first)
    assert once.of(corrected).given == "marion"


def test_one_version_met_by_several_searches_is_computed_once() -> None:
    once = FeaturesOnce()
    features = once.of(_record())
    assert once.of(_record()) is features  # an equal document from another search: the same features


def test_record_just_written_stands_for_itself_wherever_met() -> None:
    # The pushed version (seed) is the one the neighbourhood scores, even where a search not yet
    # refreshed answers with the version before it.
    written = _record(family_name="Martin")
    once = FeaturesOnce()
    once.seed([written])
    assert once.of(_record()).family == "martin"
    assert once.of_all([_record(), written]) == [features_from_document(written)] * 2
