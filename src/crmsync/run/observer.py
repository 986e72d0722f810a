"""What a run is asked to do (RunOptions) and what it tells its caller as it goes (RunObserver)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crmsync.alerts.expect import Broken
from crmsync.api.timeline import LoadTimeline
from crmsync.report.summary import RunSummary

if TYPE_CHECKING:  # run/tenants.py runs pipelines, which take this module's observer
    from crmsync.run.tenants import TenantRun


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    full: bool = False  # ignore watermarks and stored hashes: read and send everything
    limit: int | None = None
    report_dir: Path | None = None


class RunObserver:
    """What a run tells its caller as it goes; the CLI renders it, a library user may not.

    Every hook is a no-op here, so an observer overrides only what it shows.
    """

    def recovered(self, stale_pid: int | None, crashed_runs: int) -> None:
        """A dead run's lock was taken over (stale_pid, if known) and/or ``crashed_runs``
        runs it left 'running' were marked crashed. Said before run_started, at most once."""

    def run_started(self, pipeline: str, run_id: int, steps: list[str]) -> None:
        """The run holds the lock and has its id; ``steps`` are the step names in order."""

    def step_started(self, name: str, index: int, total: int) -> None:
        """A step begins (only said for pipelines of several steps)."""

    def stage(self, name: str, detail: str) -> None:
        """A stage finished."""

    def warning(self, message: str) -> None:
        """The step goes on differently from what the file asks (a mapped column the source
        lacks takes its default): said once, and kept in the step's summary."""

    def load_started(self, records: int, batches: int) -> None:
        """Loading begins."""

    def load_watch(self, live: LoadTimeline) -> None:
        """The load's requests as they go (in flight, 429s, retries), to read while it runs;
        said before load_started."""

    def load_progress(self, records_done: int, batches_done: int) -> None:
        """Some records got their outcome."""

    def load_finished(self) -> None:
        """Loading ended (also when interrupted)."""

    def step_finished(self, summary: RunSummary) -> None:
        """A step ended with this summary (also when interrupted)."""

    def expectation_broken(self, broken: Broken) -> None:
        """The run broke one of the pipeline's expectations (said before run_finished); an
        observer that shows nothing else of it says it as a warning."""
        self.warning(f"expectation broken: {broken.message}")

    def alert_failed(self, message: str) -> None:
        """The run's alert could not be delivered (after the run ended; the exit code stands)."""
        self.warning(message)

    def run_finished(self, run_id: int, status: str, exit_code: int) -> None:
        """The run is recorded as ended (status as in the state DB); the lock is still held."""

    def tenant_started(self, tenant: str, pipeline: str, index: int, total: int) -> None:
        """One of several tenants (run_tenants) begins; `pipeline` is the name its run
        is kept under. Said before its run's events."""

    def tenant_finished(self, run: TenantRun) -> None:
        """That tenant's run ended (or could not start): `run` says how."""
