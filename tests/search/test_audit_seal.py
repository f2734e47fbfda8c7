"""The audit trail's seal (search.audit_seal), without a node: a customer's token says nothing
without its key, and what was typed opens only with the key of every customer it showed."""

from __future__ import annotations

from search.audit_seal import new_key, open_entry, seal_entry, token


def _entry(ids: list[str], query: str | None) -> dict[str, object]:
    return {
        "at": "2026-11-27T23:00:00+00:00",
        "caller": "agent",
        "role": "counter",
        "action": "search",
        "customer_ids": ids,
        "query": query,
    }


def test_a_sealed_entry_names_nobody_in_clear_and_opens_with_its_customers_keys() -> None:
    gaspard, odile = new_key(), new_key()
    sealed = seal_entry(_entry(["CGASPARD", "CODILE"], "gaspard vernet 0633221100"), {"CGASPARD": gaspard, "CODILE": odile}, {})
    assert "CGASPARD" not in str(sealed) and "gaspard" not in str(sealed) and "0633221100" not in str(sealed)
    assert sealed["customer_tokens"] == [token(gaspard, "CGASPARD"), token(odile, "CODILE")]
    keyring = {token(gaspard, "CGASPARD"): ("CGASPARD", gaspard), token(odile, "CODILE"): ("CODILE", odile)}
    opened = open_entry(sealed, keyring)
    assert opened["customer_ids"] == ["CGASPARD", "CODILE"] and opened["query"] == "gaspard vernet 0633221100"


def test_once_one_shown_customer_s_key_is_gone_the_query_opens_for_nobody() -> None:
    gaspard, odile = new_key(), new_key()
    sealed = seal_entry(_entry(["CGASPARD", "CODILE"], "gaspard vernet"), {"CGASPARD": gaspard, "CODILE": odile}, {})
    opened = open_entry(sealed, {token(odile, "CODILE"): ("CODILE", odile)})  # Gaspard erased: his key deleted
    assert opened["query"] is None, "Odile's key alone must not read what was typed to find Gaspard"
    assert opened["customer_ids"] == [token(gaspard, "CGASPARD"), "CODILE"], "his token stays, a pseudonym nobody can link"


def test_a_token_depends_on_the_key_so_a_guessed_id_cannot_be_checked_without_it() -> None:
    key = new_key()
    assert token(key, "CGASPARD") == token(key, "CGASPARD") != token(new_key(), "CGASPARD")


def test_an_entry_showing_nobody_keeps_its_query_and_an_erased_id_becomes_its_pseudonym() -> None:
    assert seal_entry(_entry([], "dupont"), {}, {})["query"] == "dupont"
    sealed = seal_entry(_entry(["CGONE", "CKEPT"], "vernet"), {"CKEPT": new_key()}, {"CGONE": "p-erased"})
    assert sealed["customer_tokens"][-1] == "p-erased" and "query" not in sealed and "sealed_query" not in sealed
