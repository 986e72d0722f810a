"""The files an export writes: one per step, its path filled from the pipeline's template.

The state database names the destination by its template (not the filled path), so the
watermarks of an incremental export ({run_id} in the path) carry from run to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crmsync.config import FileDestinationConfig, Step
from crmsync.errors import ConfigError
from crmsync.paths import resolved

DATE_FORMAT = "%Y-%m-%d"


@dataclass(frozen=True)
class FileDestination:
    """Where each step's records go; `run_id` is set once the run has one."""

    config: FileDestinationConfig
    base_dir: Path
    run_id: int | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    available: bool = True
    checked: bool = False

    @property
    def template(self) -> Path:
        path = Path(self.config.path)
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def scope(self) -> str:
        """The destination's name in the state database."""
        return f"file:{self.template}"

    @property
    def incremental(self) -> bool:
        return self.config.incremental

    def path_for(self, step: Step) -> Path:
        """The file one step writes in this run."""
        filled = str(self.template).format(
            step=step.name,
            object=step.object,
            run_id="" if self.run_id is None else self.run_id,
            date=self.started.strftime(DATE_FORMAT),
        )
        return resolved(Path(filled))

    def check(self, steps: list[Step]) -> None:
        """Before anything is read: each step's folder exists (made if missing) and can be
        written to; ConfigError naming it otherwise (exit 2, nothing written)."""
        for step in steps:
            folder = self.path_for(step).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the export folder {folder}: {exc.strerror or exc}",
                    path="destination.path",
                ) from None
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ConfigError(
                    f"cannot write to the export folder {folder}: permission denied",
                    path="destination.path",
                )

    def settle(self) -> None:
        """Nothing to wait for: `check` ran before anything was read (Rally's `Destination`
        has a probe that runs beside the read)."""
