"""Objections: the entry point of the package's use cases, each in the module of its own:

- `filing`: filing an objection to a record or, by its subject, to its own grade (an evaluation result, which
  the evaluation package routes to the provider of the disputed input and files here); withdrawal;
- `answers`: the provider department's answer (correct / revoke / maintain; to a grade, maintaining it with
  reasons or correcting or revoking one of its records behind it, and the next incremental evaluation
  re-grades), through `records.lifecycle`; escalating overdue ones to the credit office;
- `queries`: one objection as its viewer may see it, the records and grades under objection, a department's
  queue, a subject's objections, the statistics;
- `history`: the objection's history (one event per step in the shared workflow history).

Callers import this module (`from xinyong.objections import service as objections`); it adds nothing.
"""

from __future__ import annotations

from xinyong.objections.answers import answer as answer
from xinyong.objections.answers import escalate_overdue as escalate_overdue
from xinyong.objections.filing import file as file
from xinyong.objections.filing import file_grade as file_grade
from xinyong.objections.filing import objectable_record as objectable_record
from xinyong.objections.filing import withdraw as withdraw
from xinyong.objections.history import events_of as events_of
from xinyong.objections.queries import get_objection as get_objection
from xinyong.objections.queries import grade_pending as grade_pending
from xinyong.objections.queries import of_subject as of_subject
from xinyong.objections.queries import open_count as open_count
from xinyong.objections.queries import open_record_ids as open_record_ids
from xinyong.objections.queries import queue as queue
from xinyong.objections.queries import statistics as statistics
