"""How pages name a person a case's history or a decision records by login (username): the user's display name
and department, the subject's name for a subject account (本主体 on that subject's own pages), never the login.

Histories keep the username (it is what the audit trail names); only what is shown changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department, User
from xinyong.subjects.models import Subject

OWN_SUBJECT = "本主体"
# Names a principal carries that are no user's.
NOT_USERS = {"anonymous": "社会公众", "system": "平台"}


def labels(
    session: Session,
    usernames: Iterable[str | None],
    *,
    own_subject_id: int | None = None,
    others_as: str | None = None,
    with_department: bool = True,
) -> dict[str, str]:
    """Each username's label as pages show it: ``显示名（部门）`` for a department's user, the subject's name for a
    subject account (``本主体`` when it is ``own_subject_id``), the organisation's name for an agency or bank
    account; 社会公众 and 平台 for the public and the platform. ``others_as`` names every other subject or
    organisation account where the reader may not learn who they are (a subject reading its own case);
    ``with_department=False`` leaves the department out where the page names it already. A name
    that is no user's is left out (the page shows it as it is: a department system's token)."""
    wanted = {name for name in usernames if name}
    found: dict[str, str] = {name: NOT_USERS[name] for name in wanted if name in NOT_USERS}
    asked = sorted(wanted - found.keys())
    if not asked:
        return found
    rows = session.execute(
        select(User.username, User.display_name, Department.name, User.subject_id, Subject.name)
        .outerjoin(Department, Department.code == User.department_code)
        .outerjoin(Subject, Subject.id == User.subject_id)
        .where(User.username.in_(asked))
    )
    for username, display_name, department, subject_id, subject_name in rows:
        if subject_id is not None and subject_id == own_subject_id:
            found[username] = OWN_SUBJECT
        elif subject_id is not None:
            found[username] = others_as or subject_name or display_name
        elif department and with_department:
            found[username] = f"{display_name}（{department}）"
        else:
            found[username] = display_name
    return found
