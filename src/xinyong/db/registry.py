"""Import every domain's models so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations

from xinyong.accounts import models as _accounts  # noqa: F401
from xinyong.audit import models as _audit  # noqa: F401
from xinyong.commitments import models as _commitments  # noqa: F401
from xinyong.content import models as _content  # noqa: F401
from xinyong.db.base import Base
from xinyong.files import models as _files  # noqa: F401
from xinyong.lists import models as _lists  # noqa: F401
from xinyong.measures import models as _measures  # noqa: F401
from xinyong.monitoring import models as _monitoring  # noqa: F401
from xinyong.notices import models as _notices  # noqa: F401
from xinyong.objections import models as _objections  # noqa: F401
from xinyong.records import models as _records  # noqa: F401
from xinyong.repair import models as _repair  # noqa: F401
from xinyong.subjects import models as _subjects  # noqa: F401

metadata = Base.metadata
