"""Repair use cases (信用修复), one module per concern, named here for the callers.

- `repair.policy`: the policy (shipped data or the credit office's copy) and the items that get notices;
- `repair.targets`: a record or list entry as a repair target, and its eligibility;
- `repair.notices`: the repair notice (修复告知书) and the reaction that issues it on a published record;
- `repair.applications`: submitting and reading an application;
- `repair.decisions`: the workflow's steps and what a repair changes (through `records.lifecycle` and the
  lists state machine);
- `repair.queries`: queues, a subject's applications, statistics;
- `repair.recheck`: overdue alerts and the monthly re-check sample;
- `repair.workflow`: the application's history (one audited event per step).
"""

from __future__ import annotations

from xinyong.repair.applications import COMMITMENT_TEMPLATE, apply, get_application
from xinyong.repair.decisions import advance, commitment_of, events_of
from xinyong.repair.notices import notice_view
from xinyong.repair.policy import OVERRIDE_NAME, notice_items, policy
from xinyong.repair.queries import is_overdue, of_subject, queue, statistics
from xinyong.repair.recheck import alert_overdue, confirm_recheck, draw_recheck, previous_month, recheck_queue
from xinyong.repair.targets import (
    TargetInfo,
    evaluate,
    load_target,
    repairable_targets,
    target_of_entry,
    target_of_record,
)

__all__ = [
    "COMMITMENT_TEMPLATE",
    "OVERRIDE_NAME",
    "TargetInfo",
    "advance",
    "alert_overdue",
    "apply",
    "commitment_of",
    "confirm_recheck",
    "draw_recheck",
    "evaluate",
    "events_of",
    "get_application",
    "is_overdue",
    "load_target",
    "notice_items",
    "notice_view",
    "of_subject",
    "policy",
    "previous_month",
    "queue",
    "recheck_queue",
    "repairable_targets",
    "statistics",
    "target_of_entry",
    "target_of_record",
]
