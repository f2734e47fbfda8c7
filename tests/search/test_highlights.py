"""Highlights mark what the counter's words found, in the fields a caller may read unmasked only."""

from __future__ import annotations

import pytest

from analyzers.names import fold_name
from analyzers.phonetic import french_phonetic_key
from search import highlights
from search.highlights import NAME_WORDS, highlight_customer, name_word_keys

NAME_PATHS = ("given_name", "family_name", "birth_name", "name_variants")
CUSTOMER = {
    "given_name": "Jean-Pierre",
    "family_name": "Lefèvre",
    "birth_name": "Dupont",
    "name_variants": ["Jean-Pierre Lefebvre", "JP Lefèvre"],
    "emails": ["jp.lefevre@free.fr"],
    "phones": ["+33611223344"],
    "loyalty_cards": [{"card": "2905555555555", "shop": "loyalty_lyon2"}],
    "postcode": "69002",
}


def test_type_ahead_prefixes_mark_whole_words_whatever_the_accents() -> None:
    marks = highlight_customer(CUSTOMER, "lefe pier", {}, NAME_PATHS)
    assert marks["given_name"] == ["Jean-<mark>Pierre</mark>"]
    assert marks["family_name"] == ["<mark>Lefèvre</mark>"]
    assert marks["name_variants"] == ["Jean-<mark>Pierre</mark> <mark>Lefebvre</mark>", "JP <mark>Lefèvre</mark>"]
    assert "birth_name" not in marks


def test_a_typo_or_a_same_sounding_spelling_marks_the_name_it_found() -> None:
    assert highlight_customer(CUSTOMER, "dupond", {}, NAME_PATHS)["birth_name"] == ["<mark>Dupont</mark>"]
    assert highlight_customer(CUSTOMER, "lefebre", {}, NAME_PATHS)["family_name"] == ["<mark>Lefèvre</mark>"]
    assert highlight_customer(CUSTOMER, "martin", {}, NAME_PATHS) == {}


def test_identifiers_are_marked_only_when_they_matched_and_the_field_is_allowed() -> None:
    identifiers = {"email": "jp.lefevre@free.fr", "card": "2905555555555", "phone": "+33611223344", "postcode": "69002"}
    everything = highlight_customer(CUSTOMER, "", identifiers, ("emails", "phones", "loyalty_cards.card", "postcode"))
    assert everything == {
        "emails": ["<mark>jp.lefevre@free.fr</mark>"],
        "phones": ["<mark>+33611223344</mark>"],
        "loyalty_cards.card": ["<mark>2905555555555</mark>"],
        "postcode": ["<mark>69002</mark>"],
    }
    # A counter agent reads phones masked: no highlight may carry the full number.
    assert highlight_customer(CUSTOMER, "", {"phone": "+33611223344"}, ("emails", *NAME_PATHS)) == {}
    assert highlight_customer(CUSTOMER, "", {"email": "other@free.fr"}, ("emails",)) == {}


def test_a_phone_found_under_another_country_code_marks_the_number_the_customer_holds() -> None:
    # Typed nationally ("06 93 28 29 87" reads +33), held as a Réunion line by its source (+262):
    # the look-up finds it under either code, and the caller sees the number it found marked.
    overseas = {**CUSTOMER, "phones": ["+262693282987", "+33611223344"]}
    assert highlight_customer(overseas, "", {"phone": "+33693282987"}, ("phones",)) == {"phones": ["<mark>+262693282987</mark>"]}
    assert highlight_customer(overseas, "", {"phone": "+33693282988"}, ("phones",)) == {}


def test_names_are_not_marked_for_a_role_that_may_not_read_them() -> None:
    assert highlight_customer(CUSTOMER, "lefevre", {}, ("postcode",)) == {}


def test_a_same_sounding_name_is_marked_from_the_sounds_stored_with_the_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sounds of a customer's name words are computed when it is written (name_word_keys, the
    # customers index's `name_words`): a look-up computes only the sounds of what was typed.
    stored = {**CUSTOMER, NAME_WORDS: name_word_keys(CUSTOMER)}
    typed_only = {fold_name("lefebre"), fold_name("dupond")}
    computed: list[str] = []

    def counted(word: str) -> str:
        computed.append(word)
        return french_phonetic_key(word)

    monkeypatch.setattr(highlights, "french_phonetic_key", counted)
    assert highlight_customer(stored, "lefebre", {}, NAME_PATHS)["family_name"] == ["<mark>Lefèvre</mark>"]
    assert highlight_customer(stored, "dupond", {}, NAME_PATHS)["birth_name"] == ["<mark>Dupont</mark>"]
    assert set(computed) <= typed_only, computed


def test_a_customer_written_before_the_stored_sounds_is_highlighted_as_before() -> None:
    # Written by an rcu before `name_words` (until `rcu reindex` and a full run), or holding a name
    # its stored words do not (a rectification): its words are folded and sounded per look-up.
    stored = {**CUSTOMER, NAME_WORDS: name_word_keys(CUSTOMER)}
    without = {k: v for k, v in stored.items() if k != NAME_WORDS}
    partial = {**stored, NAME_WORDS: [entry for entry in stored[NAME_WORDS] if not entry.startswith("Lefèvre ")]}
    for typed in ("lefe pier", "lefebre", "dupond", "jp", "martin"):
        expected = highlight_customer(stored, typed, {}, NAME_PATHS)
        assert highlight_customer(without, typed, {}, NAME_PATHS) == expected
        assert highlight_customer(partial, typed, {}, NAME_PATHS) == expected
    assert highlight_customer(without, "lefebre", {}, NAME_PATHS)["family_name"] == ["<mark>Lefèvre</mark>"]


def test_the_stored_words_hold_each_name_word_s_foldings_and_sounds() -> None:
    words = name_word_keys({"given_name": "Jean-Pierre", "family_name": "de l'Hôpital", "name_variants": ["Jean-Pierre Lhopital"]})
    assert words == [
        f"Jean jean {french_phonetic_key('jean')}",
        f"Pierre pierre {french_phonetic_key('pierre')}",
        "de de ",  # a particle has no sound of its own
        f"l'Hôpital hopital {french_phonetic_key('hopital')}",
        f"Lhopital lhopital {french_phonetic_key('lhopital')}",
    ]
    particle = {"given_name": "Anne", "family_name": "de Vries"}
    assert highlight_customer({**particle, NAME_WORDS: name_word_keys(particle)}, "de", {}, NAME_PATHS) == {
        "family_name": ["<mark>de</mark> Vries"]
    }
