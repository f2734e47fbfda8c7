"""The fast paths of the phone and e-mail normalizers give exactly what the libraries give."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email

from analyzers.emails import _PLAIN_ADDRESS, normalize_email
from analyzers.errors import InvalidValue
from analyzers.phones import _compact_to_e164, _domestic_shape, _french_national


def _library_e164(text: str, region: str) -> str | None:
    try:
        return _compact_to_e164(text, region)
    except InvalidValue:
        return None


def test_french_fast_path_agrees_with_libphonenumber_on_random_numbers() -> None:
    rng = random.Random(11)
    numbers = [f"0{rng.randint(1, 9)}{rng.randint(0, 99_999_999):08d}" for _ in range(3000)]
    numbers += [f"+33{n[1:]}" for n in numbers[:500]] + [f"0033{n[1:]}" for n in numbers[500:1000]]
    for number in numbers:
        fast = _domestic_shape(number, "FR")
        if fast is not None:
            assert fast == _library_e164(number, "FR"), number


def test_french_national_form_agrees_with_libphonenumber_on_random_numbers() -> None:
    import phonenumbers

    rng = random.Random(17)
    shortcuts = 0
    for _ in range(3000):
        e164 = f"+33{rng.randint(1, 9)}{rng.randint(0, 99_999_999):08d}"
        fast = _french_national(e164)
        if fast is not None:
            shortcuts += 1
            assert fast == phonenumbers.format_number(phonenumbers.parse(e164, "FR"), phonenumbers.PhoneNumberFormat.NATIONAL), e164
    assert shortcuts > 2000


@pytest.mark.parametrize("region", ["BE", "CH", "DE", "GB"])
def test_fast_path_agrees_with_libphonenumber_in_other_regions(region: str) -> None:
    rng = random.Random(region)
    for _ in range(500):
        number = f"0{rng.randint(10_000_000, 9_999_999_999)}"
        fast = _domestic_shape(number, region)
        if fast is not None:
            assert fast == _library_e164(number, region), number


ADDRESSES = [
    "jean.dupont@example.fr",
    "a@b.co",
    "jean..dupont@example.fr",
    ".jean@example.fr",
    "jean.@example.fr",
    "jean@-example.fr",
    "jean@example-.fr",
    "jean@example.f",
    "jean+promo@gmail.com",
    "j_d%x@sub.domain.example.org",
    "jean@localhost",
    "jean@123.45.67.89",
    "x" * 65 + "@example.fr",
    "jean@" + "a" * 64 + ".fr",
    "élodie@example.fr",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_plain_address_shortcut_accepts_only_what_email_validator_accepts(address: str) -> None:
    if _PLAIN_ADDRESS.fullmatch(address):
        validate_email(address, check_deliverability=False)


@pytest.mark.parametrize("address", ["élodie@exemple.fr", '"jean dupont"@example.fr'])
def test_unusual_addresses_still_go_through_the_full_check(address: str) -> None:
    try:
        expected = validate_email(address, check_deliverability=False, allow_smtputf8=True).normalized.lower()
    except EmailNotValidError:
        with pytest.raises(InvalidValue):
            normalize_email(address)
    else:
        assert normalize_email(address) == expected


def _name_words(count: int) -> list[str]:
    """Names, towns and random letters with accents, hyphens and apostrophes: what a counter types and customers hold."""
    from faker import Faker

    faker = Faker("fr_FR")
    faker.seed_instance(5)
    rng = random.Random(5)
    words = [value for _ in range(count) for value in (faker.first_name(), faker.last_name(), faker.city())]
    words += ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzéèçœ'- ") for _ in range(rng.randint(1, 12))) for _ in range(count)]
    return [*words, "", "L'Hôpital", "d'Arc", "O'Neil", "van der Laar", "Jean-Pierre", "DUPONT", "Ébène"]


def test_one_plain_word_is_split_and_folded_as_every_name_is() -> None:
    from analyzers.names import _APOSTROPHE, _WORD_SPLIT, ELIDED_ARTICLES, fold_text, name_tokens

    def every_step(raw: str) -> list[str]:
        tokens = []
        for word in _WORD_SPLIT.split(fold_text(_APOSTROPHE.sub("'", raw))):
            word = word.strip("'")
            for article in ELIDED_ARTICLES:
                if word.startswith(article + "'"):
                    word = word[len(article) + 1 :]
                    break
            word = word.replace("'", "")
            if word:
                tokens.append(word)
        return tokens

    for raw in _name_words(2000):
        assert name_tokens(raw) == every_step(raw), raw


def test_the_phonetic_key_skipping_rules_a_word_cannot_match_is_the_key_of_every_rule() -> None:
    import re

    from analyzers.names import name_tokens
    from analyzers.phonetic import FRENCH_PHONETIC_RULES, french_phonetic_key

    rules = [(re.compile(pattern), re.sub(r"\$(\d)", r"\\\1", replacement)) for pattern, replacement in FRENCH_PHONETIC_RULES]

    def every_rule(word: str) -> str:
        for pattern, replacement in rules:
            word = pattern.sub(replacement, word)
        return word

    words = {token for raw in _name_words(2000) for token in name_tokens(raw)}
    words |= {"christophe", "leclercq", "lefebvre", "guillaume", "jean", "roger", "dupont", "rousseau", "aa", "schmitt"}
    for word in words:
        assert french_phonetic_key(word) == every_rule(word), word
