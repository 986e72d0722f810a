"""What tests that copy the shipped pipelines share."""

from __future__ import annotations

import shutil

# What a run of a shipped pipeline in place leaves beside it: a test starts without it.
LOCAL_STATE = shutil.ignore_patterns(".crmsync")
