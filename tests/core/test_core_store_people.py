"""Store: geography, residents, identities, opt-outs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gridreach.errors import NotFound
from gridreach.views import GridView, NewResident, ResidentView


def test_migrate_is_idempotent(store: Any) -> None:
    store.migrate()
    assert store.grids() == []
    assert store.dialect in ("sqlite", "postgresql")


def test_geography_and_grid_worker(geo: Any) -> None:
    assert geo.grids() == [
        GridView("G01", "第一网格", "XF", "幸福社区", "HPJD", "和平街道"),
        GridView("G02", "第二网格", "XF", "幸福社区", "HPJD", "和平街道"),
        GridView("G09", "第九网格", "AK", "安康社区", "HPJD", "和平街道"),
    ]
    worker = geo.grid_worker_for("G01")
    assert (worker.name, worker.phone, worker.language, worker.grid_code) == (
        "王秀英",
        "+8613800138000",
        "zh",
        "G01",
    )
    assert geo.grid_worker_for("G02") is None
    # ensure_grid again: same id, renamed; add_grid_worker again: same worker, updated
    first = geo.ensure_grid("HPJD", "和平街道", "XF", "幸福社区", "G01", "一网格")
    assert first == geo.ensure_grid("HPJD", "和平街道", "XF", "幸福社区", "G01", "一网格")
    assert geo.grids()[0].name == "一网格"
    assert geo.add_grid_worker("G01", "王秀英(组长)", "+86 138-0013-8000") == worker.id
    assert geo.grid_worker_for("G01").name == "王秀英(组长)"


def test_grid_worker_needs_a_known_grid_and_a_valid_phone(geo: Any) -> None:
    with pytest.raises(NotFound):
        geo.add_grid_worker("G77", "无名", "13800138001")
    with pytest.raises(ValueError, match="not valid"):
        geo.add_grid_worker("G01", "无名", "12800138000")


def test_resident_views(geo: Any, resident_id: int) -> None:
    r = geo.get_resident(resident_id)
    assert r == ResidentView(
        resident_id, "李明", "+8613900139000", 1950, "zh", "G01", "1栋101室", "幸福社区", "王秀英"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.name = "x"
    assert geo.get_resident(resident_id + 1000) is None
    assert geo.find_resident_by_phone("+86 139-0013-9000") == r
    assert geo.find_resident_by_phone("0086 13900139000") == r
    assert geo.find_resident_by_phone("13900139001") is None
    assert geo.find_resident_by_phone("not a phone") is None


def test_residents_in_grid_and_households(geo: Any, resident_id: int) -> None:
    ids = geo.add_residents(
        [
            NewResident("G01", "1栋101室", "李小明", None, 2005, "zh"),
            NewResident("G01", "2栋202室", "Anna Smith", "+8613700137000", 1980, "en"),
            NewResident("G02", "9栋901室", "김영수", "+8613600136000", 1944, "ko"),
        ]
    )
    assert len(ids) == 3
    in_g01 = geo.residents_in_grid("G01")
    assert [r.name for r in in_g01] == ["李明", "李小明", "Anna Smith"]
    assert in_g01[1].phone is None and in_g01[1].household_address == "1栋101室"
    assert [r.name for r in geo.residents_in_grid("G02")] == ["김영수"]
    assert geo.residents_in_grid("G02")[0].grid_worker_name is None
    assert geo.residents_in_grid("G77") == []
    assert geo.existing_phones(["+8613700137000", "+8613100131000"]) == {"+8613700137000"}
    assert ("G01", "1栋101室", "李小明") in geo.known_residents(["G01"])


def test_duplicate_phone_is_refused_by_the_database(geo: Any, resident_id: int) -> None:
    from gridreach.errors import StorageError

    with pytest.raises(StorageError):
        geo.add_resident("G02", "3栋", "别人", "13900139000")
    assert len(geo.residents_in_grid("G02")) == 0  # whole transaction rolled back


def test_bad_language_is_refused(geo: Any) -> None:
    with pytest.raises(ValueError, match="language"):
        geo.add_resident("G01", "1栋", "X", None, None, "fr")


def test_channel_identities(geo: Any, resident_id: int) -> None:
    other = geo.add_resident("G01", "1栋102室", "赵六", "13500135000")
    geo.link_identity(resident_id, "telegram", "42")
    geo.link_identity(resident_id, "telegram", "42")  # idempotent
    geo.link_identity(resident_id, "wechat", "oABC")
    assert geo.resident_by_identity("telegram", "42").id == resident_id
    assert geo.resident_by_identity("wechat", "oABC").id == resident_id
    assert geo.resident_by_identity("wechat", "42") is None
    geo.link_identity(other, "telegram", "42")  # the account moved to another person
    assert geo.resident_by_identity("telegram", "42").id == other
    assert [e.action for e in geo.audit_entries("resident", other)] == ["identity.relink"]
    with pytest.raises(NotFound):
        geo.link_identity(999_999, "telegram", "43")


def test_opt_out_per_channel_and_all(geo: Any, resident_id: int) -> None:
    assert not geo.has_opted_out(resident_id, "voice")
    assert geo.record_opt_out(resident_id, "voice", "too many calls") is True
    assert geo.record_opt_out(resident_id, "voice", "again") is False
    assert geo.has_opted_out(resident_id, "voice")
    assert not geo.has_opted_out(resident_id, "telegram")
    assert geo.record_opt_out(resident_id, "all", None) is True
    assert geo.has_opted_out(resident_id, "telegram") and geo.has_opted_out(resident_id, "wechat")
    entries = geo.audit_entries("resident", resident_id)
    assert [e.detail for e in entries] == [{"channel": "voice"}, {"channel": "all"}]
    with pytest.raises(NotFound):
        geo.record_opt_out(999_999, "voice")
