"""The Python keys used for resolution and the index's analyzers must agree, name for name."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from analyzers.index_settings import customers_index_body
from analyzers.names import compact_name, name_tokens
from analyzers.phonetic import french_phonetic
from indexers.demo.people import name_pools

TRICKY = [
    "Hélène",
    "LEFÈVRE",
    "Lefebvre",
    "l'Hôpital",
    "L’Hermite",
    "d'Artagnan",
    "Jean-Pierre",
    "De La Fontaine",
    "Œuvray",
    "Groß",
    "Nguyễn",
    "Müller",
    "Ç̧ağla",
    "Saint-Exupéry",
    "Le Goff",
    "Du Pont",
    "O'Neill",
    "Françoise",
    "Zoë",
    "Ætienne",
]


@pytest.fixture(scope="module")
def analysis_index(opensearch: OpenSearch, test_prefix: str) -> Iterator[str]:
    index = f"{test_prefix}-analysis-{uuid.uuid4().hex[:6]}"
    opensearch.indices.create(index=index, body=customers_index_body())
    yield index
    opensearch.indices.delete(index=index)


def _sample_names() -> list[str]:
    pools = name_pools()
    rng = random.Random(5)
    return TRICKY + rng.sample(sorted(set(pools.family)), 150) + rng.sample(sorted(set(pools.male + pools.female)), 100)


def _analyze(opensearch: OpenSearch, index: str, analyzer: str, text: str) -> list[str]:
    return [token["token"] for token in opensearch.indices.analyze(index=index, body={"analyzer": analyzer, "text": text})["tokens"]]


def test_python_name_tokens_agree_with_the_index(opensearch: OpenSearch, analysis_index: str) -> None:
    mismatches = {n: (name_tokens(n), _analyze(opensearch, analysis_index, "rcu_name", n)) for n in _sample_names()}
    assert {n: pair for n, pair in mismatches.items() if pair[0] != pair[1]} == {}


def test_python_phonetic_keys_agree_with_the_index(opensearch: OpenSearch, analysis_index: str) -> None:
    mismatches = {n: (french_phonetic(n), _analyze(opensearch, analysis_index, "rcu_name_phonetic", n)) for n in _sample_names()}
    assert {n: pair for n, pair in mismatches.items() if pair[0] != pair[1]} == {}


def test_python_compact_names_agree_with_the_index(opensearch: OpenSearch, analysis_index: str) -> None:
    mismatches = {n: (compact_name(n), _analyze(opensearch, analysis_index, "rcu_name_compact", n)) for n in _sample_names()}
    assert {n: (py, [os_]) for n, (py, os_) in ((n, (p, o[0] if o else "")) for n, (p, o) in mismatches.items()) if py != os_} == {}


def test_names_reversed_in_python_agree_with_the_index(opensearch: OpenSearch, analysis_index: str) -> None:
    # The look-up's first-letter clause reverses name_tokens() itself (search.name_clauses.customer_name_query).
    mismatches = {
        n: ([t[::-1] for t in name_tokens(n)], _analyze(opensearch, analysis_index, "rcu_name_reversed", n)) for n in _sample_names()
    }
    assert {n: pair for n, pair in mismatches.items() if pair[0] != pair[1]} == {}
