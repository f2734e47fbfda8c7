"""Each stage's peak resident memory in a partitioned full run, measured without resetting any
process-wide counter.

Linux keeps one high-water mark per process (VmHWM, which a parent also reads as ru_maxrss through
wait4): resetting it (/proc/self/clear_refs) would hand a benchmark harness, or any program calling
resolve_all, a wrong peak. So a stage's peak is:
- the high-water mark at the stage's end when the stage raised it: the process's highest memory
  was reached in that stage (exact);
- otherwise the highest resident memory (VmRSS) sampled every `interval` seconds during the stage
  and at its end: a spike shorter than the interval, below an earlier stage's peak, may be missed.
Elsewhere than Linux, each stage reports the run's peak so far (ru_maxrss)."""

from __future__ import annotations

import resource
import threading
from pathlib import Path
from types import TracebackType

STATUS = Path("/proc/self/status")


def status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (VmRSS, VmHWM) in MB; None where there is none."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


class StagePeaks:
    """Used as a context: a light thread samples resident memory; `lap()` ends a stage and gives its peak."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rcu-stage-memory", daemon=True)
        self._sampled = 0.0
        self._high = 0.0

    def __enter__(self) -> StagePeaks:
        self._high = status_mb("VmHWM") or 0.0
        self._sampled = status_mb("VmRSS") or 0.0
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            resident = status_mb("VmRSS") or 0.0
            with self._lock:
                self._sampled = max(self._sampled, resident)

    def lap(self) -> float:
        """The peak resident memory (MB) of the stage ending now (since the previous lap)."""
        high = status_mb("VmHWM")
        if high is None:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        resident = status_mb("VmRSS") or 0.0
        with self._lock:
            peak = high if high > self._high else max(self._sampled, resident)
            self._sampled, self._high = resident, high
        return peak
