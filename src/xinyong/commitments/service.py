"""Commitments: the entry point of the package's use cases, each in the module of its own:

- `template_catalog`: templates and approval catalogues as data, the matters a template applies to;
- `signing`: signing (online from the subject's account, on paper recorded by a clerk, or at a department's
  counter registered through the API), which freezes the text, hashes it and has the platform attest it;
- `verification`: the verification (核查) that closes the loop — each commitment with an accepting department
  gets a task due in working days (or by the department's date), the department records the outcome, which
  emits `commitment.fulfilled` or `commitment.breached` in the same transaction; overdue alerts;
- `queries`: the public listing, the subject's own commitments, a department's queue, the statistics.

Callers import this module (`from xinyong.commitments import service as commitments`); it adds nothing.
"""

from __future__ import annotations

from xinyong.commitments.queries import MAX_ID as MAX_ID
from xinyong.commitments.queries import evidence_of as evidence_of
from xinyong.commitments.queries import get_for_department as get_for_department
from xinyong.commitments.queries import get_own as get_own
from xinyong.commitments.queries import get_public as get_public
from xinyong.commitments.queries import is_public as is_public
from xinyong.commitments.queries import of_subject as of_subject
from xinyong.commitments.queries import public_listing as public_listing
from xinyong.commitments.queries import public_of_subject as public_of_subject
from xinyong.commitments.queries import queue as queue
from xinyong.commitments.queries import statistics as statistics
from xinyong.commitments.rules import STATUS_LABELS as STATUS_LABELS  # pages and reports name states
from xinyong.commitments.signing import check_counter_request as check_counter_request
from xinyong.commitments.signing import preview as preview
from xinyong.commitments.signing import register_counter_signing as register_counter_signing
from xinyong.commitments.signing import sign as sign
from xinyong.commitments.signing import statement_of as statement_of
from xinyong.commitments.signing import subject_code as subject_code
from xinyong.commitments.signing import verify as verify
from xinyong.commitments.template_catalog import ONLINE_KINDS as ONLINE_KINDS
from xinyong.commitments.template_catalog import catalogues as catalogues
from xinyong.commitments.template_catalog import matters_of as matters_of
from xinyong.commitments.template_catalog import resolve_matter as resolve_matter
from xinyong.commitments.template_catalog import template as template
from xinyong.commitments.template_catalog import templates as templates
from xinyong.commitments.verification import alert_overdue as alert_overdue
from xinyong.commitments.verification import due_date as due_date
from xinyong.commitments.verification import event_payload as event_payload
from xinyong.commitments.verification import may_decide as may_decide
from xinyong.commitments.verification import open_pending_verifications as open_pending_verifications
from xinyong.commitments.verification import open_verification as open_verification
from xinyong.commitments.verification import record_fulfilment as record_fulfilment
from xinyong.commitments.verification import record_verification as record_verification
