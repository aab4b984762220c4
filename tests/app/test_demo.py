"""`gridreach demo` end to end (a slice of the grid), and its printed counts against the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.model import PROJECT_ROOT
from gridreach_demo.screening import run_demo


def test_demo_screens_through_rasa_and_prints_what_the_database_holds(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=db_url, model_dir=PROJECT_ROOT / "models")
    assert asyncio.run(run_demo(settings, grid="G01", limit=40, concurrency=4)) == 0
    out = capsys.readouterr().out
    assert "Checked: grid G01's counts equal what the scripted replies must produce." in out
    printed = next(line.split() for line in out.splitlines() if line.startswith("G01"))
    store = Store.from_url(db_url)
    row = next(r for r in store.grid_summary(campaign_ids=[1]) if r.grid_code == "G01")
    numbers = [row.residents, row.complete, row.partial, row.in_progress, row.abandoned, row.not_reached,
               row.risk.get("high", 0), row.risk.get("moderate", 0), row.risk.get("low", 0)]
    assert [int(n) for n in printed[2:]] == numbers
    assert row.complete > 0 and row.not_reached >= 433 - 40
