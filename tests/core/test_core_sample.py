"""The shipped sample community imports cleanly."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gridreach.residents_import import import_residents, load_geography
from gridreach.sample import COMMUNITY_YML, RESIDENTS_CSV

ROOT = Path(__file__).resolve().parents[2]


def test_sample_imports_cleanly(store: Any) -> None:
    assert load_geography(store, COMMUNITY_YML) == 3
    report = import_residents(store, RESIDENTS_CSV)
    assert report.refused == [], report.format()
    assert 1250 <= report.imported <= 1350
    grids = store.grids()
    assert [(g.code, g.community_name, g.street_name) for g in grids] == [
        ("G01", "幸福社区", "和平街道"),
        ("G02", "幸福社区", "和平街道"),
        ("G03", "幸福社区", "和平街道"),
    ]
    summary = store.grid_summary()
    assert sum(s.residents for s in summary) == report.imported
    for s in summary:
        assert 400 <= s.residents <= 470 and s.not_reached == s.residents
        worker = store.grid_worker_for(s.grid_code)
        assert worker is not None and worker.phone.startswith("+861")
    # ~2.8 residents per household
    g1 = store.residents_in_grid("G01")
    assert 2.4 <= len(g1) / len({r.household_address for r in g1}) <= 3.2
    assert f"{report.imported} imported, 0 refused" in report.format()


def test_sample_shape() -> None:
    rows = list(csv.DictReader(RESIDENTS_CSV.open(encoding="utf-8")))
    languages = Counter(r["language"] for r in rows)
    share = {k: v / len(rows) for k, v in languages.items()}
    assert 0.84 <= share["zh"] <= 0.92 and 0.05 <= share["en"] <= 0.11 and 0.02 <= share["ko"] <= 0.07
    years = [int(r["birth_year"]) for r in rows]
    assert min(years) >= 1935 and max(years) <= 2010
    assert all(" " in r["name"] for r in rows if r["language"] == "en")
    assert all("\uac00" <= r["name"][0] <= "\ud7a3" for r in rows if r["language"] == "ko")


@pytest.mark.timeout(120)
def test_generator_is_deterministic(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "make_sample.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "community.yml").read_bytes() == COMMUNITY_YML.read_bytes()
    assert (tmp_path / "residents.csv").read_bytes() == RESIDENTS_CSV.read_bytes()
