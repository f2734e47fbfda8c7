"""A slip of a name is as common as the name it misspells (pure): the term-frequency adjustment of
exact agreement, carried to the levels that are one name mis-written (issue 16)."""

from __future__ import annotations

import numpy as np

from search.resolve.comparisons import comparison_vector, comparisons_for
from search.resolve.features import RecordFeatures, features_from_document
from search.resolve.model import MatchModel, default_levels
from search.resolve.scoring import tf_bits

RECORDS = 10_000


def _record(record_id: str, given: str, family: str) -> RecordFeatures:
    return features_from_document({"record_id": record_id, "source": record_id.split(":")[0], "given_name": given, "family_name": family})


def _model() -> MatchModel:
    """The documented default weights, over 10,000 records holding Martin 200 times, Kerhervé
    twice, Jean 300 times; every other name once (absent from the counts)."""
    comparisons = comparisons_for()
    tables = [default_levels(c) for c in comparisons]
    return MatchModel(
        names=[c.name for c in comparisons],
        levels=[list(c.levels) for c in comparisons],
        m=[m for m, _ in tables],
        u=[u for _, u in tables],
        prior=1e-4,
        records=RECORDS,
        term_frequencies={"given": {"jean": 300}, "family": {"martin": 200, "kerherve": 2}},
        tf_features={c.name: c.term_frequency for c in comparisons if c.term_frequency},
        tf_levels={c.name: list(c.tf_levels) for c in comparisons if c.term_frequency},
        tf_slip_levels={c.name: list(c.tf_slip_levels) for c in comparisons if c.tf_slip_levels},
    )


def _family_bits(model: MatchModel, x: RecordFeatures, y: RecordFeatures) -> float:
    vector = comparison_vector(x, y, comparisons_for())
    bits = model.field_bits(x, y, vector)[model.names.index("family_name")]
    assert bits is not None
    return bits


def test_a_slip_in_a_rare_family_name_weighs_more_than_a_slip_in_a_common_one() -> None:
    """A slip: "Kerhrvé" for "Kerhervé" is evidence as rare as the name; "Martn" for "Martin" is shared
    with every Martin's slips, as common as Martin: the two slips are one level ("very close") and
    weighed alike before, by the level's average."""
    model = _model()
    level_average = float(model.level_weights()[model.names.index("family_name")][2])

    rare = _family_bits(model, _record("crm:1", "Anne", "Kerhervé"), _record("shop:1", "Anne", "Kerhrvé"))
    common = _family_bits(model, _record("crm:2", "Anne", "Martin"), _record("shop:2", "Anne", "Martn"))

    assert rare > level_average > common
    # As exact agreement on each name is adjusted: the same bits off the level's own weight.
    assert rare - level_average == model.tf_adjustment(1, "kerherve")
    assert common - level_average == model.tf_adjustment(1, "martin")


def test_two_slips_seen_once_each_keep_the_level_s_average_weight() -> None:
    """Two slips: "Martn" and "Marti" are held by no second record: they say nothing of how common the name
    they misspell is, so the pair weighs as the level does on average."""
    model = _model()
    level_average = float(model.level_weights()[model.names.index("family_name")][2])

    assert _family_bits(model, _record("crm:1", "Anne", "Martn"), _record("shop:1", "Anne", "Marti")) == level_average


def test_a_full_run_and_an_explanation_weigh_a_slip_alike() -> None:
    """The full run's vectorized adjustment (scoring.tf_bits) and one pair's (MatchModel.field_bits,
    used by real time and `rcu explain`) agree, a swapped name included (no adjustment: the names
    as written are not a slip of each other)."""
    model = _model()
    records = [
        _record("crm:1", "Jean", "Kerhervé"),
        _record("shop:1", "Jaen", "Kerhrvé"),
        _record("crm:2", "Jean", "Martin"),
        _record("shop:2", "Jean", "Martn"),
        _record("web:2", "Martn", "Jean"),
    ]
    pairs = np.array([(0, 1), (2, 3), (2, 4), (3, 4)])
    vectors = np.array([comparison_vector(records[i], records[j], comparisons_for()) for i, j in pairs.tolist()], dtype=np.int8)

    weights, _ = model.score(vectors, tf_bits(model, records, pairs, vectors))

    expected = [model.pair_weight(records[i], records[j], vectors[k].tolist()) for k, (i, j) in enumerate(pairs.tolist())]
    assert np.allclose(weights, expected)
