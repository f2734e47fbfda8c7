"""Resolution configuration: thresholds, blocking bounds, survivorship, weight overrides.

Defaults live here; a TOML file named by RCU_RESOLUTION_CONFIG overrides any of them, e.g.:

    match_threshold = 0.9
    extra_identifiers = ["soc_sec_id"]      # source attributes compared as identifiers

    [source_priority]
    names = ["crm", "legacy", "ecommerce", "loyalty_*", "callcenter"]

    never_merge = ["different_birth_dates", "different_sex", "different_given_names"]

    [never_merge_calibration]               # a rule the data contradicts is left to the weights
    enabled = true

    [weight_overrides.email]                # m and u per level, replacing what EM learned
    exact = { m = 0.95, u = 0.0001 }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from search.resolve.parallel import available_cores


class LevelOverride(BaseModel):
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)


DEFAULT_PRIORITY = ["crm", "legacy", "ecommerce", "loyalty_*", "callcenter"]


class NeverMergeCalibration(BaseModel):
    """When the data contradicts a never-merge rule's premise, the rule is left to the weights (search.resolve.calibration)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
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


class ResolutionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match_threshold: float = Field(default=0.99, gt=0, lt=1, description="Match probability above which two records are linked.")
    max_block_size: int = Field(default=60, ge=2, description="A blocking key shared by more records is too common to block on (reported).")
    max_cluster_size: int = Field(default=200, ge=2, description="A customer never grows past this many records.")
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
    never_merge: list[Literal["different_birth_dates", "different_sex", "different_given_names"]] = Field(
        default=["different_birth_dates", "different_sex", "different_given_names"],  # copied for each config
        description=(
            "Evidence that two records are different people whatever else they share: homonyms, Monsieur and Madame, "
            "household members (twins included). Remove a rule only for data known to hold no such people."
        ),
    )

    never_merge_calibration: NeverMergeCalibration = Field(default_factory=NeverMergeCalibration)

    def worker_count(self) -> int:
        return self.workers or available_cores()

    @classmethod
    def load(cls, path: Path | None) -> ResolutionConfig:
        if path is None:
            return cls()
        return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
