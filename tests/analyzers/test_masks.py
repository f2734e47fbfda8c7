"""The masks an access policy may name all exist."""

from __future__ import annotations

from typing import get_args

from analyzers.masks import MASKS, MaskName


def test_every_mask_a_policy_may_name_has_a_rule() -> None:
    assert set(MASKS) == set(get_args(MaskName))
