"""Running a pipeline: its steps in order, each the flow of stages with typed artifacts.

pipeline      run_pipeline: the lock, the state database, the steps in order, the run record
step          run_step: extract -> transform -> resolve -> plan -> deliver -> report
observer      RunOptions, and RunObserver: what a run says as it goes
ledger        OutcomeLedger: every row read ends in exactly one outcome
artifacts     what the stages hand each other (Transformed, Resolved, Plan, Delivered)
ids           IdIndex: the run's id maps (this run, the state database, Rally's list)
destination   the tenant written to, and its connection
files         the files an export writes instead (one per step, placeholders filled)
alerting      the run's alert (notify:), sent after the run is recorded
tenants       run_tenants: one pipeline file for several tenants, each its own run
stages/       extract, transform, resolve, plan (with routing by mode), deliver (and dry run),
              export (a file destination's deliver)
"""

from crmsync.run.observer import RunObserver, RunOptions
from crmsync.run.pipeline import RunResult, lock_path, run_pipeline
from crmsync.run.step import StepResult
from crmsync.run.tenants import TenantRun, run_tenants, worst_exit_code

__all__ = [
    "RunObserver",
    "RunOptions",
    "RunResult",
    "StepResult",
    "TenantRun",
    "lock_path",
    "run_pipeline",
    "run_tenants",
    "worst_exit_code",
]
