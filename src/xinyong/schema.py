"""The whole schema: every domain's models imported, so that `metadata` is complete (for the migrations'
autogenerate comparison and the test that the migrated schema matches the models). It sits above the domains;
`xinyong.db` knows none of them."""

from __future__ import annotations

from xinyong.accounts import models as _accounts  # noqa: F401
from xinyong.audit import models as _audit  # noqa: F401
from xinyong.authorizations import models as _authorizations  # noqa: F401
from xinyong.commitments import models as _commitments  # noqa: F401
from xinyong.content import models as _content  # noqa: F401
from xinyong.db.base import Base
from xinyong.evaluation import models as _evaluation  # noqa: F401
from xinyong.events import models as _events  # noqa: F401
from xinyong.files import models as _files  # noqa: F401
from xinyong.lists import models as _lists  # noqa: F401
from xinyong.measures import models as _measures  # noqa: F401
from xinyong.monitoring import models as _monitoring  # noqa: F401
from xinyong.notices import models as _notices  # noqa: F401
from xinyong.objections import models as _objections  # noqa: F401
from xinyong.records import models as _records  # noqa: F401
from xinyong.registration import models as _registration  # noqa: F401
from xinyong.repair import models as _repair  # noqa: F401
from xinyong.reports import models as _reports  # noqa: F401
from xinyong.subjects import models as _subjects  # noqa: F401
from xinyong.supervision import models as _supervision  # noqa: F401
from xinyong.supervision import task_models as _supervision_tasks  # noqa: F401

metadata = Base.metadata
