"""The context a use case runs in, passed as one value instead of a long list of parameters: who acts, on
what day and from where, and the platform's read-only services a use case may need (the catalog, the
working-day calendar, the resident-ID cipher, the signer, the data directory).

The request, the CLI command or the job makes it (`Platform.context`); a use case reads what it needs from
it and takes as parameters only what its own caller decides (the form's fields, the uploaded files). It
knows no platform: the composition root fills it, the domains read it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog
from xinyong.kit.crypto import PersonalIdCipher, Signer
from xinyong.kit.workdays import WorkdayCalendar


@dataclass(frozen=True, slots=True)
class UseCaseContext:
    principal: Principal
    today: dt.date
    catalog: Catalog
    calendar: WorkdayCalendar
    cipher: PersonalIdCipher
    signer: Signer
    data_dir: Path
    ip: str | None = None  # the caller's address (audit trail), when it came over the network

    def acting_as(self, principal: Principal) -> UseCaseContext:
        """The same context for another principal (e.g. the system finishing what a person started)."""
        return replace(self, principal=principal)
