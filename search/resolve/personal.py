"""What one person owns and a household does not: the evidence that tells a father from his son.

Members of one household share a family name, an address, a landline and a postcode — and a son
named after his father shares the given name too ("père et fils"). What each of them owns is a
mobile, a personal e-mail and a birth date. So two groups of records that agree only on what a
household shares, while each holds an e-mail and a mobile of its own that the other's do not
match, are two people: `contacts_differ`. The never-merge rule `different_personal_contacts`
(search.resolve.clustering) enforces it over whole groups, so a father's CRM record (his e-mail)
and his e-commerce record (his mobile) are held apart from his son's, although no single pair of
their records holds both contacts.

"Differs" is the comparisons' last level only: a one-letter e-mail typo, the same mailbox name at
another provider (wanadoo.fr → orange.fr), a mobile one digit off or an unverified number written
the same are agreement here, as they are for the match weights (search.resolve.comparisons). A
mailbox name made of the person's names at another provider (jean.dupont@wanadoo.fr →
jean.dupont@gmail.com), which the comparisons leave "different" because namesakes write it too,
is no difference here either: it is what a provider change leaves; nor agreement, which it cannot
be between namesakes. A landline is neither: the household shares it. One differing contact alone is not enough: people
hold a second e-mail (work, an old provider) or a second mobile, and a mobile mistyped beyond one
digit reads as "different" (on bench.corruption at its baseline, 54 candidate pairs of one person
at one address differ on the mobile alone with nothing personal agreeing, none on both e-mail and
mobile; 20-year timelines: 27 on both, against 54 household pairs at father namesakes 0.3).
"""

from __future__ import annotations

from typing import NamedTuple

from analyzers.phones import is_household_line
from search.resolve.comparisons import address_level, birth_date_level, card_level, email_level, phone_level, same_mailbox_elsewhere
from search.resolve.features import RecordFeatures

EMAIL_DIFFERENT = 4  # comparisons.email_level's last level
PHONE_DIFFERENT = 3  # comparisons.phone_level's last level
ADDRESS_ELSEWHERE = 5  # comparisons.address_level's last level: another postcode, town and département
# The comparisons of the contacts a person owns, by their comparisons' names (own_contacts_differ).
OWN_CONTACTS = ("email", "phone")


class PersonalEvidence(NamedTuple):
    """What two records' personal values say: `agrees` when any of them agrees (a birth date or a
    slip of it, an e-mail or a near one, a mobile or one digit of it, a card, an identifier);
    `contact_agrees` the same but for the birth date; `emails_differ` / `mobiles_differ` when both
    hold one and they plainly differ; `emails_agree` / `mobiles_agree` when they agree;
    `keepsake_agrees` when a card or an identifier does."""

    agrees: bool
    emails_differ: bool
    mobiles_differ: bool
    contact_agrees: bool = False
    emails_agree: bool = False
    mobiles_agree: bool = False
    keepsake_agrees: bool = False

    def others_agree(self, kind: str) -> bool:
        """Whether a contact other than `kind` ("mobile" or "email") agrees: the other kind, a
        card or an identifier."""
        return self.keepsake_agrees or (self.emails_agree if kind == "mobile" else self.mobiles_agree)


def personal_evidence(x: RecordFeatures, y: RecordFeatures) -> PersonalEvidence:
    """What the personal values of two records say (PersonalEvidence)."""
    email = email_level(x, y)
    mobiles = holds_mobile(x) and holds_mobile(y)
    phone = phone_level(x, y) if mobiles else -1
    emails_agree, mobiles_agree = 0 <= email < EMAIL_DIFFERENT, 0 <= phone < PHONE_DIFFERENT
    keepsake = card_level(x, y) == 0 or _identifier_agrees(x, y)
    contact = emails_agree or mobiles_agree or keepsake
    agrees = contact or birth_date_level(x, y) in (0, 1)
    emails_differ = email == EMAIL_DIFFERENT and not same_mailbox_elsewhere(x.email, y.email)
    return PersonalEvidence(agrees, emails_differ, phone == PHONE_DIFFERENT, contact, emails_agree, mobiles_agree, keepsake)


def own_contacts_differ(evidence: PersonalEvidence, changed_with_time: frozenset[str] = frozenset()) -> bool:
    """Whether two records (`evidence`: their personal_evidence) each hold a mobile or an e-mail of
    their own that plainly differs from the other's (not one mailbox name at two providers, not a
    landline against a mobile). Not a place: a household shares it, and a person moves (at 10-year
    timelines of bench.robustness, a place alone elsewhere was one person's old address twice).
    `changed_with_time` ("phone", "email"): the differences the time between the two records
    explains (search.resolve.seen_apart.changed_with_time) — a person's old mobile, not his own
    against another's."""
    return (evidence.mobiles_differ and "phone" not in changed_with_time) or (evidence.emails_differ and "email" not in changed_with_time)


def same_place(x: RecordFeatures, y: RecordFeatures) -> bool:
    """Whether two records hold places that are not elsewhere: one street, postcode, town or département."""
    return 0 <= address_level(x, y) < ADDRESS_ELSEWHERE


def _identifier_agrees(x: RecordFeatures, y: RecordFeatures) -> bool:
    return any(value and y.identifiers.get(name) == value for name, value in x.identifiers.items())


def contacts_differ(evidence: list[PersonalEvidence], a: list[RecordFeatures], b: list[RecordFeatures]) -> bool:
    """Whether two groups of records (`a`, `b`; `evidence`, one per record pair between them) are
    two people: no personal value agrees across them, both an e-mail and a mobile of each side
    differ, and the two were seen over one period (`seen_together`)."""
    return (
        bool(evidence)
        and not any(e.agrees for e in evidence)
        and any(e.emails_differ for e in evidence)
        and any(e.mobiles_differ for e in evidence)
        and seen_together([r for r in a if holds_contact(r)], [r for r in b if holds_contact(r)])
    )


def holds_household_values_only(record: RecordFeatures) -> bool:
    """Whether the record holds nothing a person owns that could tell him from another member of
    his household: no e-mail, no mobile, no birth date, no identifier — a name, an address, a
    landline, at most a shop's card (which agrees with that shop's records only). Such a record
    (a loyalty card, a legacy line) fits a father and the son named after him alike
    (search.resolve.clustering: HOUSEHOLD_RECORD)."""
    return not (record.birth_date or holds_contact(record) or any(record.identifiers.values()))


def holds_contact(record: RecordFeatures) -> bool:
    """Whether the record holds an e-mail or a mobile: what `contacts_differ` weighs."""
    return bool(record.email) or holds_mobile(record)


def holds_mobile(record: RecordFeatures) -> bool:
    """Whether the record's phone is a person's own (not the household's landline)."""
    return bool(record.phone) and not is_household_line(record.phone)


def seen_together(a: list[RecordFeatures], b: list[RecordFeatures]) -> bool:
    """Whether the systems saw the two groups over one period: neither group's records all date
    from before the other's first (by `updated_at`, the day). A person changes mobile and mailbox
    over the years, so one group all older than the other may be one man before and after the
    change; two groups still both in use, each with its own, are two men. `contacts_differ` passes
    only each side's records holding an e-mail or a mobile: a loyalty record holding a card alone,
    dated years after the man's new e-mail, says nothing of when he used the old one.

    Undated records say nothing of when: a group holding one counts as seen with the other at any
    time (conservative: two groups held apart become a possible match a steward decides)."""
    if not a or not b or any(not r.updated_at for r in a) or any(not r.updated_at for r in b):
        return True
    days_a = [r.updated_at[:10] for r in a]
    days_b = [r.updated_at[:10] for r in b]
    return max(days_a) >= min(days_b) and max(days_b) >= min(days_a)
