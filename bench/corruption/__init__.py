"""A second corruption model, written apart from the demo generator (indexers/demo), to measure
resolution on data rcu was not tuned to: `corpus(knobs, seed)` draws people and their records,
`robustness_dataset(knobs, seed)` gives them normalized, with their truth, as a bench Dataset.

Modules: vocabulary (names, streets, providers), geography (postcodes, towns, phones), people and
population (households, homonyms, timelines), typos and formats (what systems get wrong and how
they write things), systems (the source systems' error models), knobs (the settings swept by
bench.robustness).
"""
