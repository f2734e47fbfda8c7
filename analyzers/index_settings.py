"""Every rcu index's settings and mappings, as data: the records and customers indices with their
analysis (the Python normalizers agree with it, tested), and the plain indices beside them.

Each name (given, family, birth) is indexed as folded words (`rcu_name`: "Hélène" = "HELENE",
"l'Hôpital" → "hopital"), as `.compact` (no spaces or punctuation: "Lhopital" = "l'Hôpital") and as a
folded `.keyword`. `full_name` gathers the three (copy_to) so "dup jea" matches across them, and adds:
- `.prefix`: edge n-grams for type-ahead, "dup" → Dupont;
- `.phonetic`: rcu's French phonetic key (analyzers.phonetic), "Lefèvre" = "Lefebvre", "Dupond" = "Dupont";
- `.dmetaphone`: double metaphone, for names of other origins;
- `.reversed` (customers only): each word backwards, so a typo in a word's first letters is found
  by a cheap fuzzy query keeping its last letters ("ePrret" → Perret, "Cabriel" → Gabriel).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from analyzers.phonetic import FRENCH_PHONETIC_RULES

EDGE_NGRAM_MAX = 20
NAME_FIELDS = ("given_name", "family_name", "birth_name")


def _phonetic_filter_names() -> list[str]:
    return [f"rcu_fr_phonetic_{index:02d}" for index in range(len(FRENCH_PHONETIC_RULES))]


def analysis() -> dict[str, Any]:
    filters: dict[str, Any] = {
        "rcu_elision": {"type": "elision", "articles_case": True, "articles": ["l", "d"]},
        "rcu_prefix": {"type": "edge_ngram", "min_gram": 1, "max_gram": EDGE_NGRAM_MAX},
        "rcu_compact": {"type": "pattern_replace", "pattern": "[^a-z0-9]", "replacement": ""},
        "rcu_no_apostrophe": {"type": "pattern_replace", "pattern": "['\u2019]", "replacement": ""},
        "rcu_non_empty": {"type": "length", "min": 1},
        "rcu_dmetaphone": {"type": "phonetic", "encoder": "double_metaphone", "replace": True},
    }
    for name, (pattern, replacement) in zip(_phonetic_filter_names(), FRENCH_PHONETIC_RULES, strict=True):
        filters[name] = {"type": "pattern_replace", "pattern": pattern, "replacement": replacement}
    folded = ["rcu_elision", "icu_folding", "rcu_no_apostrophe"]
    return {
        "filter": filters,
        "analyzer": {
            "rcu_name": {"type": "custom", "tokenizer": "standard", "filter": folded},
            "rcu_name_prefix": {"type": "custom", "tokenizer": "standard", "filter": [*folded, "rcu_prefix"]},
            "rcu_name_compact": {"type": "custom", "tokenizer": "keyword", "filter": ["icu_folding", "rcu_compact"]},
            "rcu_name_phonetic": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folded, *_phonetic_filter_names(), "rcu_non_empty"],
            },
            "rcu_name_dmetaphone": {"type": "custom", "tokenizer": "standard", "filter": [*folded, "rcu_dmetaphone"]},
            "rcu_name_reversed": {"type": "custom", "tokenizer": "standard", "filter": [*folded, "reverse"]},
            "rcu_text": {"type": "custom", "tokenizer": "standard", "filter": folded},
        },
        "normalizer": {"rcu_folded": {"type": "custom", "filter": ["icu_folding"]}},
    }


def _name_field() -> dict[str, Any]:
    """One name (given, family or birth): folded words, the compact form and the folded keyword."""
    return {
        "type": "text",
        "analyzer": "rcu_name",
        "copy_to": "full_name",
        "fields": {
            "compact": {"type": "text", "analyzer": "rcu_name_compact", "norms": False},
            "keyword": {"type": "keyword", "normalizer": "rcu_folded", "ignore_above": 256},
        },
    }


def _full_name_field(reversed_words: bool = False) -> dict[str, Any]:
    """All names of the record together, with every view the counter's queries need.

    Prefixes and phonetic keys live here only, not on each name: the counter types names in any
    order, and each extra analyzed sub-field costs ingest throughput (bench/RESULTS.md). Reversed
    words only where the counter looks people up (customers), not on every source record."""
    fields = {
        "prefix": {"type": "text", "analyzer": "rcu_name_prefix", "search_analyzer": "rcu_name", "norms": False},
        "compact": {"type": "text", "analyzer": "rcu_name_compact", "norms": False},
        "phonetic": {"type": "text", "analyzer": "rcu_name_phonetic", "norms": False},
        "dmetaphone": {"type": "text", "analyzer": "rcu_name_dmetaphone", "norms": False},
    }
    if reversed_words:
        fields["reversed"] = {"type": "text", "analyzer": "rcu_name_reversed", "norms": False, "index_options": "docs"}
    return {"type": "text", "analyzer": "rcu_name", "fields": fields}


KEYWORD = {"type": "keyword", "ignore_above": 256}
STORED_ONLY = {"type": "object", "enabled": False}


FOLDED_KEYWORD = {**KEYWORD, "normalizer": "rcu_folded"}


def records_mappings() -> dict[str, Any]:
    """The `records` index: one document per source record, normalized, raw values kept beside.

    Nothing here is analyzed text: the counter looks customers up, never records, and resolution
    reads records by id, by blocking key and by date, and their `_source`. Names, street and city
    are folded keywords (an exact look-up for a steward); each analyzed view of a name cost the
    node CPU on every record ingested (bench.ingest_fields, bench/RESULTS.md 2026-11-27)."""
    return {
        "dynamic": "strict",
        "properties": {
            "record_id": KEYWORD,
            "source": KEYWORD,
            "source_id": KEYWORD,
            "updated_at": {"type": "date"},
            "ingested_at": {"type": "date"},
            "deleted": {"type": "boolean"},
            **{field: FOLDED_KEYWORD for field in NAME_FIELDS},
            "civility": KEYWORD,
            "birth_date": {"type": "date", "format": "strict_date"},
            "email": KEYWORD,
            "phone": KEYWORD,
            "street": FOLDED_KEYWORD,
            "postcode": KEYWORD,
            "city": FOLDED_KEYWORD,
            "country": KEYWORD,
            "loyalty_card": KEYWORD,
            # Every key this record meets its candidates under (search.resolve.features.blocking_keys).
            "blocking_keys": KEYWORD,
            # What the source sent, for fields rcu normalized or could not: shown, never matched on.
            "raw": STORED_ONLY,
            # Every other field of the source (a call-center note, a segment …), kept as sent.
            "attributes": STORED_ONLY,
            # Consent statements the source sent (purpose, status, at, origin): read by resolution.
            "consents": STORED_ONLY,
            # Data-quality warnings: which field, the raw value, why it was left out of matching (or
            # kept unverified: `unverified` names the fields whose canonical form is not confirmed).
            "quality": {
                "properties": {
                    "fields": KEYWORD,
                    "unverified": KEYWORD,
                    "warnings": STORED_ONLY,
                }
            },
        },
    }


def customers_mappings() -> dict[str, Any]:
    """The `customers` index: one golden customer per document, searchable like records."""
    text_with_keyword = {"type": "text", "analyzer": "rcu_text", "fields": {"keyword": {**KEYWORD, "normalizer": "rcu_folded"}}}
    return {
        "dynamic": "strict",
        "properties": {
            "customer_id": KEYWORD,
            "records": KEYWORD,
            "sources": KEYWORD,
            "record_count": {"type": "integer"},
            **{field: _name_field() for field in NAME_FIELDS},
            # Every spelling of the customer's names across its records, so any of them finds it.
            "name_variants": {"type": "text", "analyzer": "rcu_name", "copy_to": "full_name"},
            "full_name": _full_name_field(reversed_words=True),
            "civility": KEYWORD,
            "birth_date": {"type": "date", "format": "strict_date"},
            "emails": KEYWORD,
            "phones": KEYWORD,
            "loyalty_cards": {"properties": {"card": KEYWORD, "source": KEYWORD, "record_id": KEYWORD}},
            "street": text_with_keyword,
            "postcode": KEYWORD,
            "city": text_with_keyword,
            "household_key": KEYWORD,
            # Searched, never read (search.resolve.store.searched_only): every town and birth date
            # of the customer's records, and when each loyalty shop last updated its record.
            "towns": {"type": "text", "analyzer": "rcu_text", "norms": False},
            # Every given and family name its records spell, folded: the look-up's whole-name and
            # reading bonuses read them beside the golden names (search.name_bonuses).
            "given_names": FOLDED_KEYWORD,
            "family_names": FOLDED_KEYWORD,
            # Each name word's foldings and French phonetic keys (search.highlights.name_word_keys):
            # read back by the look-up's highlights instead of computed per look-up.
            "name_words": {"type": "keyword", "index": False, "doc_values": False},
            "birth_dates": {"type": "date", "format": "strict_date"},
            "shop_visits": {"type": "nested", "properties": {"shop": KEYWORD, "at": {"type": "date"}}},
            "addresses": STORED_ONLY,
            "provenance": STORED_ONLY,
            # Consent (search.rights.consents): the deciding statement per purpose, the history, and
            # what marketing routes filter on.
            "consents": STORED_ONLY,
            "consent_history": STORED_ONLY,
            "restricted": {"type": "boolean"},
            "consents_granted": KEYWORD,
            "consents_refused": KEYWORD,
            "updated_at": {"type": "date"},
            "resolved_at": {"type": "date"},
            # What the document was built from, digested (search.resolve.store.resolution_hash): a
            # full run rewrites only the customers whose digest changed. Kept in _source only.
            "resolution_hash": {"type": "keyword", "index": False, "doc_values": False},
        },
    }


def customers_index_body(shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    return _index_body(customers_mappings(), shards, replicas)


def records_index_body(shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    return _index_body(records_mappings(), shards, replicas)


def _index_body(mappings: dict[str, Any], shards: int, replicas: int) -> dict[str, Any]:
    body = {
        "settings": {
            "index": {"number_of_shards": shards, "number_of_replicas": replicas},
            "analysis": analysis(),
        },
        "mappings": mappings,
    }
    mappings["_meta"] = {"rcu_schema": schema_fingerprint(body)}
    return body


def schema_fingerprint(body: dict[str, Any]) -> str:
    """A short hash of analysis and mappings: the index needs `rcu reindex` when it changes."""
    relevant = {"analysis": body["settings"]["analysis"], "mappings": {k: v for k, v in body["mappings"].items() if k != "_meta"}}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


# The indices holding no analyzed text: merge and split events of customer ids, record → customer
# links, the resolution state, and the audit trail.
SMALL: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
# Entries are read only through search.audit.audit_entries, which refreshes first: no periodic
# refresh to pay for while every look-up writes.
AUDIT_REFRESH: dict[str, Any] = {"refresh_interval": "60s"}
# The same for the record links and the change feed's counters: read by real-time gets only (the
# one search of the links, a full run's current_assignment, refreshes first), written by every push.
# Refreshed each second, they cost a push at 100k a quarter to a third of its node CPU and its
# latency (bench/RESULTS.md, session 15 push section: 124/99 → 93/66 ms of node CPU per push); 60 s,
# as the audit trail's, bounds what the node holds unrefreshed (its version map) between refreshes.
READ_BY_ID_REFRESH: dict[str, Any] = {"refresh_interval": "60s"}


def _small(shards: int, replicas: int) -> dict[str, Any]:
    return {**SMALL, "number_of_shards": shards, "number_of_replicas": replicas}


def redirects_index_body(replicas: int = 0) -> dict[str, Any]:
    """One document per merge or split of a customer id."""
    mappings = {
        "properties": {
            "old_id": {"type": "keyword"},
            "new_id": {"type": "keyword"},
            "kind": {"type": "keyword"},
            "at": {"type": "date"},
            "pseudonym": {"type": "keyword"},  # an erased id's stand-in in the audit trail
        }
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


def record_customers_index_body(shards: int = 2, replicas: int = 0) -> dict[str, Any]:
    """record_id → customer_id, read with real-time gets."""
    mappings = {"dynamic": "strict", "properties": {"customer_id": {"type": "keyword"}}}
    return {"settings": {**_small(shards, replicas), **READ_BY_ID_REFRESH}, "mappings": mappings}


def resolution_state_index_body(replicas: int = 0) -> dict[str, Any]:
    """The trained model and the last run's watermark. The model's value counts are data, not
    fields: stored, never mapped."""
    return {"settings": _small(1, replicas), "mappings": {"enabled": False}}


def audit_index_body(replicas: int = 0) -> dict[str, Any]:
    """Who saw which customers, when, through which query, and with which outcome (search.audit)."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "at": {"type": "date"},
            "caller": {"type": "keyword"},
            "role": {"type": "keyword"},
            "action": {"type": "keyword"},
            "customer_ids": {"type": "keyword"},  # ids with no key (none since the trail is sealed; entries from before)
            "customer_tokens": {"type": "keyword"},  # search.audit_seal: a keyed token per customer shown
            "query": {"type": "keyword", "ignore_above": 512},  # what was typed when it showed nobody
            "sealed_query": {"type": "object", "enabled": False},  # what was typed, readable with a shown customer's key
            "outcome": {"type": "keyword"},
        },
    }
    return {"settings": {**_small(1, replicas), **AUDIT_REFRESH}, "mappings": mappings}


def keyring_index_body(replicas: int = 0) -> dict[str, Any]:
    """One audit key per customer id (search.audit_keys), its token for readers mapping entries back."""
    mappings = {
        "dynamic": "strict",
        "properties": {"customer_id": {"type": "keyword"}, "token": {"type": "keyword"}, "key": {"type": "binary"}},
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


def subject_statements_index_body(replicas: int = 0) -> dict[str, Any]:
    """Consents and rectifications stated through the API, naming the records they follow."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "kind": {"type": "keyword"},  # consent or rectification
            "record_ids": {"type": "keyword"},
            "customer_id": {"type": "keyword"},
            "purpose": {"type": "keyword"},
            "status": {"type": "keyword"},
            "field": {"type": "keyword"},
            "value": {"type": "keyword", "index": False, "doc_values": False},
            "at": {"type": "date"},
            "origin": {"type": "keyword"},
            "by": {"type": "keyword"},
            "why": {"type": "text", "index": False},
        },
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


def changes_index_body(replicas: int = 0) -> dict[str, Any]:
    """The change feed: one document per change, ordered by `seq`; ids, sources and field names only."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "seq": {"type": "long"},
            "at": {"type": "date"},
            "kind": {"type": "keyword"},  # created, updated, merged, split, consent_changed, removed, erased
            "customer_id": {"type": "keyword"},
            "old_id": {"type": "keyword"},
            "new_id": {"type": "keyword"},
            "fields": {"type": "keyword"},
            "sources": {"type": "keyword"},
            "records": {"type": "keyword"},
            "erased_ids": {"type": "keyword"},  # erased: the golden ids erased, merged ones included
        },
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


def sequences_index_body(replicas: int = 0) -> dict[str, Any]:
    """Counters handing out change feed numbers: stored, never mapped."""
    return {"settings": {**_small(1, replicas), **READ_BY_ID_REFRESH}, "mappings": {"enabled": False}}


def suppression_index_body(replicas: int = 0) -> dict[str, Any]:
    """Keyed hashes of erased identifiers (the document id) with their kind and erasure date."""
    return {
        "settings": _small(1, replicas),
        "mappings": {"dynamic": "strict", "properties": {"kind": {"type": "keyword"}, "erased_at": {"type": "date"}}},
    }


def webhooks_index_body(replicas: int = 0) -> dict[str, Any]:
    """Webhook deliveries: one `state` document per subscriber (its cursor and retries) and one
    `dead_letter` document per batch given up on; change seqs and statuses only, never payloads."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "type": KEYWORD,  # state or dead_letter
            "subscriber": KEYWORD,
            "cursor": {"type": "long"},
            "pending_until": {"type": "long"},
            "attempts": {"type": "integer"},
            "next_attempt_at": {"type": "date"},
            "parked": {"type": "boolean"},
            "delivered": {"type": "long"},
            "last_error": KEYWORD,
            "delivery": KEYWORD,
            "from_seq": {"type": "long"},
            "to_seq": {"type": "long"},
            "resolved": KEYWORD,  # how an admin resumed: retried or skipped
            "at": {"type": "date"},
        },
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


def possible_matches_index_body(replicas: int = 0) -> dict[str, Any]:
    """Pairs of customers that may be one person, for a data steward (search.resolve.possible):
    one document per pair, its id the pair's."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "pair_id": KEYWORD,
            "customer_ids": KEYWORD,  # the two customers, sorted
            "kind": KEYWORD,  # below-threshold, refused-by-rule or ambiguous-weak-record
            "probability": {"type": "float"},
            "rule": KEYWORD,  # what held the two apart (a never-merge rule …), absent below the threshold
            "reason": KEYWORD,
            "records": KEYWORD,  # the two records whose comparison is the evidence
            "explanation": STORED_ONLY,  # search.resolve.explain: fields, levels, weights, probability
            "created_at": {"type": "date"},
            "updated_at": {"type": "date"},
        },
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


INTEGER = {"type": "integer"}
# The fields a condition may use, documented in the README (Segments).
PROFILE_PROPERTIES: dict[str, Any] = {
    "customer_id": KEYWORD,
    "records": KEYWORD,  # the customer's record ids (its events are read through them)
    "computed_at": {"type": "date"},
    "civility": KEYWORD,
    "birth_year": INTEGER,
    "age": INTEGER,
    "postcode": KEYWORD,
    "departement": KEYWORD,
    "city": KEYWORD,
    "country": KEYWORD,
    "sources": KEYWORD,
    "record_count": INTEGER,
    "household": KEYWORD,  # a hash of the household key (search.segments.profiles.household_hash)
    "household_size": INTEGER,
    "children": INTEGER,
    "restricted": {"type": "boolean"},
    "consents_granted": KEYWORD,
    "consents_refused": KEYWORD,
    "last_seen": {"type": "date"},
    "days_since_seen": INTEGER,
    "visits_12m": INTEGER,
    "spend_12m": {"type": "double"},
    "shops": KEYWORD,
    "channels": KEYWORD,
    "products_held": KEYWORD,
    "products_count": INTEGER,
    "valid_until": {"type": "date"},  # when time alone makes the profile stale (search.segments.profiles.valid_until)
}


def profiles_index_body(replicas: int = 0) -> dict[str, Any]:
    """One profile per customer (id: the customer id). It holds no membership, and its strict
    mapping has no `segments` field: a segment is its condition searched (search.segments.membership),
    and profiles stored by an rcu before session 14 lose the memberships of their day when
    `rcu reindex` copies them (search.indices.LEGACY_FIELDS)."""
    return {
        "settings": _small(1, replicas),
        "mappings": {"dynamic": "strict", "properties": PROFILE_PROPERTIES},
    }


def conditions_index_body(replicas: int = 0) -> dict[str, Any]:
    """Segment conditions and action rules as percolator queries over the profile's fields, by
    generation (the content hash of the file they came from)."""
    own = {
        "query": {"type": "percolator"},
        "condition_kind": KEYWORD,  # segment, action, or active (which generation is in force)
        "name": KEYWORD,
        "generation": KEYWORD,
        "definition": {"type": "object", "enabled": False},
        # The segments found for the customer, in the document the action rules are percolated
        # with (a rule may name one: "segments:client_fidele"); never in a stored profile.
        "segments": KEYWORD,
    }
    return {
        "settings": _small(1, replicas),
        "mappings": {"dynamic": "strict", "properties": {**PROFILE_PROPERTIES, **own}},
    }


def decisions_index_body(replicas: int = 0) -> dict[str, Any]:
    """A data steward's decisions (search.steward): one document per decision, the rule it binds
    (record ids), who, when and why, what it did and whether it was undone; and one `claim` per
    customer state a decision was taken on, so two stewards cannot both decide on the same state."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "decision_id": KEYWORD,
            "kind": KEYWORD,  # same_person, different_people, split, detach (or claim)
            "item": KEYWORD,  # pair (two customers) or customer (one, a split's target aside)
            "status": KEYWORD,  # active or undone
            "customer_ids": KEYWORD,  # the customers decided on, as they were shown
            "records": KEYWORD,  # every record the decision names (export, erasure, resolution)
            "sources": KEYWORD,
            "together": STORED_ONLY,  # lists of record ids that must be one customer
            "apart": STORED_ONLY,  # pairs of record-id lists that must never be
            "before": STORED_ONLY,  # customer id → its records, when decided
            "after": STORED_ONLY,  # record id → customer id, once applied
            "evidence": STORED_ONLY,  # the possible match shown, if any
            "redirects": STORED_ONLY,  # the redirects the decision wrote (undo removes them)
            "by": KEYWORD,
            "role": KEYWORD,
            "reason": {"type": "text", "index": False},
            "at": {"type": "date"},
            "undone_by": KEYWORD,
            "undone_at": {"type": "date"},
            "undo_reason": {"type": "text", "index": False},
        },
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


def identity_conflicts_index_body(replicas: int = 0) -> dict[str, Any]:
    """Customers whose own records disagree on an identity field (two birth dates, two
    civilities), kept by resolution for the steward's queue: one document per customer."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "customer_id": KEYWORD,
            "fields": KEYWORD,  # the identity fields whose records disagree
            "records": KEYWORD,
            "sources": KEYWORD,
            "values": {"type": "integer"},  # distinct values of the most divided field
            "updated_at": {"type": "date"},
        },
    }
    return {"settings": _small(1, replicas), "mappings": mappings}


# What an events index keeps of a field no query filters, sorts or aggregates on: the value in
# `_source` (the timeline, the export read it), no terms and no doc values. Every query over the
# events family (search.events.figures, .bulk, .timeline, .rights, .store — by `_id` —, .scan,
# search.actions.outcomes, search.rights.retention and erasure_plan) uses only the fields mapped
# otherwise below (tests/analyzers/test_events_mapping.py walks them). Unique values (the event
# key, its hash, the event id) cost the most to index and to merge: a terms dictionary entry and a
# doc-values entry per event.
_EVENT_KEPT = {"type": "keyword", "index": False, "doc_values": False}
# Aggregated or sorted on (figures, timeline, acceptance rates), never filtered: doc values only.
_EVENT_SORTED = {**KEYWORD, "index": False}


def events_index_body(shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """One period of interactions (search.events): what happened with a customer in one system,
    attached to a source record. Free text (a refusal's reason, attributes) is stored, never
    indexed; so is every field no query reads but from `_source` (`_EVENT_KEPT`)."""
    mappings = {
        "dynamic": "strict",
        "properties": {
            "event_key": _EVENT_SORTED,  # source:event_id, also the document id (looked up by `_id`); the timeline's tie-break
            "source": _EVENT_KEPT,
            "event_id": _EVENT_KEPT,
            "type": {**KEYWORD, "doc_values": False},  # filtered, never aggregated
            "at": {"type": "date"},
            "ingested_at": {"type": "date", "index": False, "doc_values": False},
            "record_id": KEYWORD,  # the customer is read through the record → customer link
            "attached_by": _EVENT_KEPT,  # record, loyalty_card, email, phone or customer
            "amount": {"type": "scaled_float", "scaling_factor": 100, "index": False},  # summed, never filtered
            "currency": _EVENT_KEPT,
            "products": _EVENT_KEPT,
            "shop": _EVENT_SORTED,
            "channel": _EVENT_SORTED,
            "offer": _EVENT_SORTED,
            "action": _EVENT_SORTED,
            "outcome": KEYWORD,  # a refusal is filtered on, acceptance rates aggregate it
            "reason": _EVENT_KEPT,
            "visit_day": _EVENT_SORTED,  # day|shop of a visit or a purchase: visits are counted as distinct days per shop
            "content_hash": _EVENT_KEPT,  # compared in `_source` when an event id comes again
            "attributes": STORED_ONLY,
        },
    }
    return {"settings": _small(shards, replicas), "mappings": mappings}
