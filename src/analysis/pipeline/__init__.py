"""The pipeline's steps, declared once, and the one rule that says whether a step is stale and why.

See :mod:`analysis.pipeline.steps`.  The batch (``python -m analysis run``, ``--dry-run``), the notebooks
(:func:`analysis.reports.loading.load_report`) and the track record's cache ask it; nothing else decides.
"""

from analysis.pipeline.rule import why_stale
from analysis.pipeline.steps import (
    STEP,
    STEPS,
    Context,
    Step,
    bring_up_to_date,
    cache_key,
    fingerprint,
    forget,
    note_edition,
    run_step,
    staleness,
)

__all__ = [
    "STEP",
    "STEPS",
    "Context",
    "Step",
    "bring_up_to_date",
    "cache_key",
    "fingerprint",
    "forget",
    "note_edition",
    "run_step",
    "staleness",
    "why_stale",
]
