"""Segments: conditions over a customer's profile (golden fields, household, consents, figures of
interactions) stored as OpenSearch percolator queries, kept live per customer and recomputed in
bulk, and what marketing may see of them."""
