"""What one step runs with, besides its config: the pipeline builds it for each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crmsync.config.sizes import DEFAULT_WORK_MEMORY
from crmsync.extract.sources import Source
from crmsync.run.destination import Destination
from crmsync.run.files import FileDestination
from crmsync.run.ids import IdIndex
from crmsync.run.observer import RunObserver, RunOptions
from crmsync.state import StepState


@dataclass(frozen=True)
class StepRun:
    """What one step runs with, besides its config: given by the pipeline."""

    source: Source
    state: StepState
    ids: IdIndex
    destination: Destination | FileDestination
    options: RunOptions
    observer: RunObserver
    base_dir: Path
    report_dir: Path
    resume_since: datetime | None = None
    last_read: bool = True  # no later step of the run reads this step's source
    asked_later: bool = True  # a later step looks up this step's object by its keys
    work_memory: int = DEFAULT_WORK_MEMORY  # bytes of rows of one kind held before spilling
