"""A partitioned run's per-stage memory peaks (search.resolve.stage_memory): each stage's own peak,
without touching the process's high-water mark that a benchmark harness reads."""

from __future__ import annotations

import time

import numpy as np

from search.resolve.stage_memory import StagePeaks, status_mb


def _hold(megabytes: int, seconds: float) -> None:
    block = np.ones(megabytes * 2**20, dtype=np.uint8)  # written: resident, not only reserved
    time.sleep(seconds)
    del block


def test_a_stage_below_an_earlier_peak_reports_its_own_peak_not_the_earlier_one() -> None:
    with StagePeaks(interval=0.02) as peaks:
        peaks.lap()
        baseline = status_mb("VmRSS") or 0.0
        _hold(240, 0.2)
        first = peaks.lap()
        _hold(80, 0.3)
        second = peaks.lap()
        quiet = peaks.lap()
    assert first >= baseline + 200
    assert baseline + 60 <= second < first - 100
    assert quiet < baseline + 40


def test_measuring_stages_leaves_the_process_high_water_mark_alone() -> None:
    _hold(240, 0)  # a high-water mark well above what the process holds now
    before = status_mb("VmHWM")
    assert before is not None and before > (status_mb("VmRSS") or 0.0) + 200
    with StagePeaks(interval=0.02) as peaks:
        peaks.lap()
        _hold(20, 0.05)
        peaks.lap()
    assert (status_mb("VmHWM") or 0.0) >= before
