"""The `gridreach` command on a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridreach.sample import COMMUNITY_YML
from gridreach.store import Store
from gridreach_app.cli import main


@pytest.fixture
def env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GRIDREACH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDREACH_DATABASE_URL", db_url)
    return db_url


def test_import_keeps_good_rows_and_reports_each_bad_one(env: str, tmp_path: Path, capsys) -> None:
    assert main(["geography", "load", str(COMMUNITY_YML)]) == 0
    csv = tmp_path / "residents.csv"
    csv.write_text(
        "grid_code,address,name,phone,birth_year,language\n"
        "G01,幸福小区1栋101,张三,13800138001,1950,zh\n"      # row 2: good
        "G09,幸福小区1栋102,李四,13800138002,1960,zh\n"      # row 3: unknown grid
        "G01,幸福小区1栋103,王五,12345,1970,zh\n"            # row 4: bad phone
        "G01,幸福小区1栋104,赵六,13800138001,1980,zh\n"      # row 5: duplicate phone
        "G02,Lake Road 5,Anna Lee,+86 138 0013 8005,1990,en\n"  # row 6: good
        "G02,幸福小区2栋1,,13800138006,1990,zh\n"            # row 7: no name
        "G03,幸福小区3栋1,孙七,13800138007,1890,zh\n",       # row 8: bad birth year
        encoding="utf-8",
    )
    code = main(["residents", "import", str(csv)])
    out = capsys.readouterr().out
    assert code == 3
    assert "7 rows read, 2 imported, 5 refused" in out
    for row in (3, 4, 5, 7, 8):
        assert f"row {row}:" in out
    assert "13800138001" not in out  # phone numbers are masked in the report
    store = Store.from_url(env)
    assert [r.name for r in store.residents_in_grid("G01")] == ["张三"]
    assert [r.phone for r in store.residents_in_grid("G02")] == ["+8613800138005"]


def test_sample_load_then_report(env: str, capsys) -> None:
    assert main(["sample", "load"]) == 0
    assert main(["sample", "load"]) == 0  # a second time changes nothing
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "Loaded the sample community: 3 grids, 1300 residents" in out
    assert "already loaded" in out
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.split()[1] == "1300"


def test_a_bad_setting_stops_with_the_key_named(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("GRIDREACH_DIALOGUE", "carrier-pigeon")
    assert main(["report"]) == 2
    assert "GRIDREACH_DIALOGUE" in capsys.readouterr().err
