"""The corruption model's output: records in rcu's ingestion contract with their truth, and the
same normalized as bench.datasets does it, ready for bench.metrics and bench.splink_runner."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.corruption.knobs import Knobs
from bench.corruption.people import Population
from bench.corruption.population import build_population
from bench.corruption.systems import RenderedRecord, Renderer
from bench.datasets import Dataset, _documents


@dataclass
class Corpus:
    population: Population
    records: list[RenderedRecord]

    @property
    def truth(self) -> dict[str, str]:
        """Record id (source:source_id, as rcu names it) → person id."""
        return {f"{r.payload['source']}:{r.payload['source_id']}": r.person_id for r in self.records}


def corpus(knobs: Knobs, seed: int = 1) -> Corpus:
    """People and their records, the same for the same knobs and seed."""
    population = build_population(knobs, random.Random(f"{seed}/people"))
    return Corpus(population, Renderer(knobs, seed).records(population.people))


def robustness_dataset(knobs: Knobs, seed: int = 1, name: str = "robustness") -> Dataset:
    made = corpus(knobs, seed)
    documents = _documents((record.payload, None) for record in made.records)
    homonyms = {frozenset(pair) for pair in made.population.homonyms}
    return Dataset(name, documents, made.truth, households=dict(made.population.households), homonyms=homonyms)
