"""Residents, households, channel identities and opt-outs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridreach.db.models import ChannelIdentity, Community, Grid, GridWorker, Household, OptOut, Resident
from gridreach.phones import normalize_phone
from gridreach.settings import LANGUAGES
from gridreach.store._base import StoreBase
from gridreach.views import NewResident, ResidentView

__all__ = ["ResidentsMixin"]

ALL_CHANNELS = "all"


def _resident_select() -> Any:
    worker_name = (
        select(GridWorker.name)
        .where(GridWorker.grid_id == Grid.id)
        .order_by(GridWorker.id)
        .limit(1)
        .correlate(Grid)
        .scalar_subquery()
    )
    return (
        select(
            Resident.id,
            Resident.name,
            Resident.phone,
            Resident.birth_year,
            Resident.language,
            Grid.code,
            Household.address,
            Community.name,
            worker_name,
        )
        .join(Household, Household.id == Resident.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .join(Community, Community.id == Grid.community_id)
    )


class ResidentsMixin(StoreBase):
    # ---- reading -------------------------------------------------------------------
    def get_resident(self, resident_id: int) -> ResidentView | None:
        with self._read() as session:
            row = session.execute(_resident_select().where(Resident.id == resident_id)).one_or_none()
            return None if row is None else ResidentView(*row)

    def find_resident_by_phone(self, phone: str) -> ResidentView | None:
        """Look a resident up by phone, written any usual way; None if unknown or invalid."""
        try:
            e164 = normalize_phone(phone)
        except ValueError:
            return None
        with self._read() as session:
            row = session.execute(_resident_select().where(Resident.phone == e164)).one_or_none()
            return None if row is None else ResidentView(*row)

    def residents_in_grid(self, grid_code: str) -> list[ResidentView]:
        with self._read() as session:
            rows = session.execute(
                _resident_select().where(Grid.code == grid_code).order_by(Household.address, Resident.id)
            ).all()
            return [ResidentView(*row) for row in rows]

    def existing_phones(self, phones: Iterable[str]) -> set[str]:
        """Which of these E.164 numbers already belong to a resident."""
        wanted = sorted(set(phones))
        found: set[str] = set()
        with self._read() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(
                    session.execute(select(Resident.phone).where(Resident.phone.in_(chunk))).scalars()
                )
        return found

    def known_residents(self, grid_codes: Iterable[str]) -> set[tuple[str, str, str]]:
        """``(grid_code, address, name)`` of every resident in these grids."""
        with self._read() as session:
            rows = session.execute(
                select(Grid.code, Household.address, Resident.name)
                .join(Household, Household.grid_id == Grid.id)
                .join(Resident, Resident.household_id == Household.id)
                .where(Grid.code.in_(sorted(set(grid_codes))))
            ).all()
            return {(str(g), str(a), str(n)) for g, a, n in rows}

    # ---- writing -------------------------------------------------------------------
    def add_resident(
        self,
        grid_code: str,
        address: str,
        name: str,
        phone: str | None = None,
        birth_year: int | None = None,
        language: str = "zh",
    ) -> int:
        """Add one resident (household created on demand); the phone is normalised."""
        e164 = normalize_phone(phone) if phone else None
        return self.add_residents([NewResident(grid_code, address, name, e164, birth_year, language)])[0]

    def add_residents(self, residents: Sequence[NewResident]) -> list[int]:
        """Add residents in one transaction; returns their ids in order.

        Phones must already be E.164. A duplicate phone aborts the whole batch with
        ``StorageError`` (callers that want per-row reports check ``existing_phones`` first).
        """
        for resident in residents:
            if resident.language not in LANGUAGES:
                raise ValueError(f"unsupported language {resident.language!r}")
        with self._write() as session:
            grid_ids: dict[str, int] = {}
            households: dict[tuple[int, str], int] = {}
            added: list[Resident] = []
            for new in residents:
                if new.grid_code not in grid_ids:
                    grid_ids[new.grid_code] = self._grid_id(session, new.grid_code)
                key = (grid_ids[new.grid_code], new.address)
                if key not in households:
                    households[key] = _household(session, *key)
                row = Resident(
                    household_id=households[key],
                    name=new.name,
                    phone=new.phone,
                    birth_year=new.birth_year,
                    language=new.language,
                )
                session.add(row)
                added.append(row)
            session.flush()
            return [int(row.id) for row in added]

    def link_identity(self, resident_id: int, channel: str, external_id: str) -> None:
        """Bind a channel account (Telegram user id, WeChat openid, ...) to a resident."""
        with self._write() as session:
            self._get(session, Resident, resident_id, "resident")
            existing = _identity(session, channel, external_id)
            if existing is None:
                try:
                    with session.begin_nested():
                        session.add(
                            ChannelIdentity(resident_id=resident_id, channel=channel, external_id=external_id)
                        )
                    return
                except IntegrityError:
                    existing = _identity(session, channel, external_id)
            if existing is not None and existing.resident_id != resident_id:
                self._audit(
                    session, "system", "identity.relink", "resident", resident_id, {"channel": channel}
                )
                existing.resident_id = resident_id

    def resident_by_identity(self, channel: str, external_id: str) -> ResidentView | None:
        with self._read() as session:
            row = session.execute(
                _resident_select()
                .join(ChannelIdentity, ChannelIdentity.resident_id == Resident.id)
                .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
            ).one_or_none()
            return None if row is None else ResidentView(*row)

    def record_opt_out(self, resident_id: int, channel: str, reason: str | None = None) -> bool:
        """Record that a resident wants no more contact on ``channel`` ('all' = every channel).

        Idempotent: True when newly recorded, False when it was already there.
        """
        with self._write() as session:
            self._get(session, Resident, resident_id, "resident")
            try:
                with session.begin_nested():
                    session.add(OptOut(resident_id=resident_id, channel=channel, reason=reason))
            except IntegrityError:
                return False
            self._audit(session, "resident", "opt_out", "resident", resident_id, {"channel": channel})
            return True

    def has_opted_out(self, resident_id: int, channel: str) -> bool:
        with self._read() as session:
            found = session.execute(
                select(OptOut.id).where(
                    OptOut.resident_id == resident_id,
                    or_(OptOut.channel == channel, OptOut.channel == ALL_CHANNELS),
                )
            ).first()
            return found is not None


def _identity(session: Session, channel: str, external_id: str) -> Any:
    return session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    ).scalar_one_or_none()


def _household(session: Session, grid_id: int, address: str) -> int:
    found = session.execute(
        select(Household.id).where(Household.grid_id == grid_id, Household.address == address)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    try:
        with session.begin_nested():
            household = Household(grid_id=grid_id, address=address)
            session.add(household)
        return int(household.id)
    except IntegrityError:
        return int(
            session.execute(
                select(Household.id).where(Household.grid_id == grid_id, Household.address == address)
            ).scalar_one()
        )
