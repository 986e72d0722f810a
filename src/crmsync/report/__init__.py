"""What a run tells people afterwards: the per-row report files, the step summaries, and the
run history read back from the state database.

outcomes  the outcome frame every stage records into, and its schema
summary   RunSummary: one step's counts, requests and timing (summary.json)
files     errors.csv, merged.csv, warnings.csv, payloads.ndjson, summary.json
history   `crmsync runs` and `crmsync report`: past runs from the state database
"""

from crmsync.report.files import write_report
from crmsync.report.outcomes import OUTCOME_SCHEMA, OUTCOMES, STAGES, outcome_frame
from crmsync.report.summary import RunSummary

__all__ = ["OUTCOMES", "OUTCOME_SCHEMA", "STAGES", "RunSummary", "outcome_frame", "write_report"]
