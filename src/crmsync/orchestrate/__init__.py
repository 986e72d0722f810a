"""Pipeline files as an orchestrator's work: what its definitions need, and what it should do
with how a run ended. Nothing here imports an orchestrator.

outline   read_outline: a file's name and steps, without the run's environment
verdict   verdict_of_result / verdict_of_error: exit codes as succeed, warn, retry, fail
dagster   pipeline_assets, definitions: Dagster assets (`pip install 'crmsync[dagster]'`;
          import crmsync.orchestrate.dagster yourself, nothing else does)
"""

from crmsync.orchestrate.outline import PipelineOutline, StepOutline, read_outline
from crmsync.orchestrate.verdict import (
    Action,
    RowsFailed,
    Verdict,
    verdict_of_error,
    verdict_of_result,
)

__all__ = [
    "Action",
    "PipelineOutline",
    "RowsFailed",
    "StepOutline",
    "Verdict",
    "read_outline",
    "verdict_of_error",
    "verdict_of_result",
]
