"""The settings of the corruption model: one field per knob, the baseline as defaults."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Knobs:
    """How the population is made and how hard source systems are on it.

    Rates are probabilities per record field unless said otherwise; channel profiles
    (bench.corruption.systems) scale them up or down per source system."""

    people: int = 3000
    # Population
    name_skew: float = 0.6  # Zipf exponent of family-name frequency (0: all alike; 1: Zipf's law)
    homonym_rate: float = 0.02  # share of people given the full name of another person (chosen by name frequency)
    household_share: float = 0.35  # share of people living with others of their family
    twin_share: float = 0.08  # share of households with children that hold twins (same birth date)
    # share of sons given their father's given name ("père et fils": one full name, one home and landline,
    # birth dates a generation apart); 0 by default, so the baseline population is the one of earlier sessions
    father_namesake_share: float = 0.0
    unverifiable_phone_share: float = 0.05  # share of mobiles that libphonenumber does not call valid
    timeline_years: float = 2.0  # systems see each person at dates spread over this many years
    # Record errors
    typo_rate: float = 0.08  # per name field: a keyboard, transposition, OCR, phonetic, dropped or doubled letter
    typo_first_letter: float = 0.0  # share of typos forced on the first letter (0: any position, uniformly)
    initials_share: float = 0.03  # per record: an initial ("J.") or a partial/truncated name
    nickname_share: float = 0.02  # per record with a known nickname
    swap_share: float = 0.02  # per record: given and family names swapped
    maiden_share: float = 0.15  # per record of a married woman: her maiden name as family name
    sparse_share: float = 0.10  # per record: names and one other field only
    missing_rate: float = 1.0  # scales each channel's share of missing fields
    legacy_field_width: int = 12  # the legacy export cuts names to this many characters (0: never)

    def with_value(self, knob: str, value: float) -> Knobs:
        if knob not in {f.name for f in fields(self)}:
            raise ValueError(f"unknown knob {knob!r}")
        typed: float | int = int(value) if knob in ("people", "legacy_field_width") else float(value)
        return replace(self, **{knob: typed})  # type: ignore[arg-type]

    def clean(self) -> Knobs:
        """No error at all: every value a system holds is the person's, as of the system's date
        (the model's identity; formats still vary, which normalization must absorb)."""
        return replace(
            self,
            typo_rate=0.0,
            initials_share=0.0,
            nickname_share=0.0,
            swap_share=0.0,
            maiden_share=0.0,
            sparse_share=0.0,
            missing_rate=0.0,
            timeline_years=0.0,
            legacy_field_width=0,
        )


# The sweep: each knob's settings, the baseline's value among them (bench.robustness).
SWEEP: dict[str, tuple[float, ...]] = {
    "sparse_share": (0.0, 0.10, 0.25, 0.40),
    "typo_rate": (0.0, 0.08, 0.20, 0.35),
    "typo_first_letter": (0.0, 0.5, 1.0),
    "unverifiable_phone_share": (0.0, 0.05, 0.20, 0.40),
    "name_skew": (0.4, 0.6, 0.8, 1.0),
    "homonym_rate": (0.0, 0.02, 0.05, 0.10),
    "timeline_years": (0.0, 2.0, 10.0, 20.0),
    "initials_share": (0.0, 0.03, 0.10, 0.25),
    "father_namesake_share": (0.0, 0.3, 1.0),
}


def knobs_parser(description: str | None) -> argparse.ArgumentParser:
    """The command line of a diagnostic benchmark over the corruption model: the population's
    size and seed; its settings (`knobs_of_setting`) and own options added by the benchmark."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    return parser


def diagnose(description: str | None, defaults: list[str], examples_help: str, analyse: Callable[[Knobs, int, int], None]) -> None:
    """A diagnostic benchmark's command line run: `analyse(knobs, seed, examples)` for each setting
    named (`defaults` when none), under a header line per setting."""
    parser = knobs_parser(description)
    parser.add_argument("--examples", type=int, default=0, help=examples_help)
    parser.add_argument("settings", nargs="*", default=defaults)
    args = parser.parse_args()
    for setting in args.settings:
        knobs = knobs_of_setting(parser, setting, args.people)
        print(f"== {setting}")
        analyse(knobs, args.seed, args.examples)


def knobs_of_setting(parser: argparse.ArgumentParser, setting: str, people: int) -> Knobs:
    """The knobs of one command-line setting of the diagnostic benchmarks: `baseline`, or
    `knob=value` of a knob in SWEEP; another knob is the parser's usage error."""
    knob, _, value = setting.partition("=")
    knobs = Knobs(people=people)
    if knob == "baseline":
        return knobs
    if knob not in SWEEP:
        parser.error(f"unknown knob {knob!r}; choose among {', '.join(SWEEP)}")
    return knobs.with_value(knob, float(value))
