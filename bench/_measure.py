"""Timing whole processes as a user runs them, and printing the results as a table.

Each run is a fresh child process; its wall time is measured around the spawn and its peak
memory is the child's own max RSS from wait4 (so one run never hides behind another's peak), as
is its CPU time (user + system), which a busy machine inflates far less than the wall time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAYOUTS = (str(Path(sys.executable).with_name("payouts")),)
"""The `payouts` console script of the environment the benchmark runs in, as a user runs it."""


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mb: float
    cpu_seconds: float = 0.0


@dataclass
class Result:
    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def median_cpu(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(run.max_rss_mb for run in self.runs)


class ProcessFailed(RuntimeError):
    pass


def run_process(command: Sequence[str], *, stdin_text: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `command` to completion; its wall time and its own peak resident memory."""
    started = time.perf_counter()
    child = subprocess.Popen(
        list(command), cwd=ROOT, env={**os.environ, **(env or {})},
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    if stdin_text is not None:
        assert child.stdin is not None
        child.stdin.write(stdin_text)
        child.stdin.close()
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise ProcessFailed(f"{' '.join(command)} exited {child.returncode}: {errors.strip()}")
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def measure(label: str, repeat: int, once: Callable[[], Run], prepare: Callable[[], None] | None = None) -> Result:
    """`repeat` runs of `once`, each after `prepare` (which is not timed)."""
    result = Result(label)
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        result.runs.append(once())
    return result


def print_table(title: str, results: Sequence[Result], *, baseline: Result | None = None, memory: bool = False,
                cpu: bool = False) -> None:
    """A Markdown table: median seconds, every run, the ratio to the baseline, and with `cpu` the median
    CPU seconds and their ratio to the baseline's."""
    print(f"\n{title}\n")
    header = ["workload", "median s", "runs (s)"]
    if baseline is not None:
        header.append(f"× {baseline.label}")
    if cpu:
        header.append("median CPU s")
        if baseline is not None:
            header.append("CPU ×")
    if memory:
        header.append("peak RSS MB")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for result in results:
        cells = [result.label, f"{result.median:.3f}", " ".join(f"{run.seconds:.3f}" for run in result.runs)]
        if baseline is not None:
            cells.append(f"{result.median / baseline.median:.2f}")
        if cpu:
            cells.append(f"{result.median_cpu:.3f}")
            if baseline is not None:
                cells.append(f"{result.median_cpu / baseline.median_cpu:.2f}")
        if memory:
            cells.append(f"{result.peak_mb:.0f}")
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


def machine() -> str:
    """One line naming the machine, for the results."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}"
