"""CSV / XLSX resident import: every refused row reported, good rows imported."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gridreach.errors import ImportFileError
from gridreach.residents_import import import_residents, load_geography

HEADER = ["grid_code", "address", "name", "phone", "birth_year", "language"]
NEXT_YEAR = str(datetime.date.today().year + 1)
ROWS = [
    ["G01", "1栋101室", "李明", "13900139000", "1950", "zh"],  # 2 ok
    ["G01", "1栋101室", "李小红", "139 0013 9001", "1985", ""],  # 3 ok, default language
    ["G02", "5栋501室", "Anna Smith", "+86 137-0013-7000", "1980", "EN"],  # 4 ok
    ["G01", "1栋102室", "王五", "12345", "1960", "zh"],  # 5 bad phone
    ["G77", "9栋", "赵六", "13600136000", "1960", "zh"],  # 6 unknown grid
    ["G01", "1栋103室", "钱七", "13900139000", "1970", "zh"],  # 7 duplicate of row 2
    ["G01", "1栋104室", "", "13500135000", "1970", "zh"],  # 8 missing name
    ["G01", "", "孙八", "13500135001", "1970", "zh"],  # 9 missing address
    ["G01", "1栋105室", "周九", "13500135002", "1899", "zh"],  # 10 bad birth year
    ["G01", "1栋106室", "吴十", "13500135003", NEXT_YEAR, "zh"],  # 11 bad birth year (future)
    ["G01", "1栋107室", "郑一", "13500135004", "1970", "fr"],  # 12 unsupported language
    ["", "", "", "", "", ""],  # blank line: not a row
    ["G02", "6栋601室", "김영수", "008613500135005", "1944", "ko"],  # 14 ok
    ["G02", "6栋602室", "陈老太", "", "", "中文"],  # 15 ok, no phone, no birth year
]
EXPECTED_REFUSED = {
    5: "bad phone",
    6: "unknown grid",
    7: "duplicate",
    8: "missing name",
    9: "missing address",
    10: "bad birth year",
    11: "bad birth year",
    12: "unsupported language",
}


@pytest.fixture
def grids(geo: Any) -> Any:
    return geo


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding=encoding)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([None if v == "" else v for v in row])
    book.save(path)
    return path


def check_report(report: Any) -> None:
    assert report.rows_read == 13
    assert report.imported == 5
    assert report.imported + len(report.refused) == report.rows_read
    assert sorted(r.row for r in report.refused) == sorted(EXPECTED_REFUSED)
    for refused in report.refused:
        assert EXPECTED_REFUSED[refused.row] in refused.reason, (refused.row, refused.reason)


def check_store(store: Any) -> None:
    g1 = {r.name: r for r in store.residents_in_grid("G01")}
    g2 = {r.name: r for r in store.residents_in_grid("G02")}
    assert set(g1) == {"李明", "李小红"} and set(g2) == {"Anna Smith", "김영수", "陈老太"}
    assert g1["李小红"].phone == "+8613900139001" and g1["李小红"].language == "zh"
    assert g1["李明"].household_address == g1["李小红"].household_address == "1栋101室"
    assert (g2["Anna Smith"].language, g2["Anna Smith"].birth_year) == ("en", 1980)
    assert (g2["김영수"].phone, g2["김영수"].language) == ("+8613500135005", "ko")
    assert (g2["陈老太"].phone, g2["陈老太"].birth_year) == (None, None)


def test_csv_import(grids: Any, tmp_path: Path) -> None:
    report = import_residents(grids, write_csv(tmp_path / "r.csv", HEADER, ROWS))
    check_report(report)
    check_store(grids)
    text = report.format()
    assert "13 rows read, 5 imported, 8 refused" in text
    assert "row 7: duplicate" in text
    assert "13900139000" not in text and "139****9000" in text  # phones masked


def test_reimport_reports_duplicates(grids: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", HEADER, ROWS)
    import_residents(grids, path)
    again = import_residents(grids, path)
    assert again.imported == 0 and again.rows_read == 13
    duplicates = [r.row for r in again.refused if r.reason.startswith("duplicate")]
    assert duplicates == [2, 3, 4, 7, 14, 15]  # 15 has no phone: same name at the same address
    assert len(grids.residents_in_grid("G01")) == 2


def test_xlsx_import_with_numeric_cells(grids: Any, tmp_path: Path) -> None:
    rows: list[list[Any]] = [list(r) for r in ROWS]
    rows[0][3], rows[0][4] = 13900139000, 1950  # Excel keeps numbers as numbers
    rows[2][4] = 1980.0
    report = import_residents(grids, write_xlsx(tmp_path / "r.xlsx", HEADER, rows))
    check_report(report)
    check_store(grids)


def test_chinese_headers_and_bom(grids: Any, tmp_path: Path) -> None:
    header = ["网格编码", "地址", "姓名", "电话", "出生年份", "语言"]
    path = write_csv(tmp_path / "r.csv", header, ROWS[:3], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = import_residents(grids, path)
    assert (report.imported, report.refused) == (3, [])


def test_gb18030_csv_from_chinese_excel(grids: Any, tmp_path: Path) -> None:
    report = import_residents(grids, write_csv(tmp_path / "r.csv", HEADER, ROWS[:2], encoding="gb18030"))
    assert report.imported == 2
    assert {r.name for r in grids.residents_in_grid("G01")} == {"李明", "李小红"}


def test_missing_columns_are_named(grids: Any, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"missing required column.*address.*phone"):
        import_residents(grids, write_csv(tmp_path / "r.csv", ["grid_code", "name"], [["G01", "李明"]]))


def test_unreadable_files(grids: Any, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError):
        import_residents(grids, tmp_path / "absent.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a zip file")
    with pytest.raises(ImportFileError, match="XLSX"):
        import_residents(grids, broken)
    with pytest.raises(ImportFileError, match="unsupported file type"):
        import_residents(grids, write_csv(tmp_path / "r.json", HEADER, ROWS))
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(ImportFileError, match="empty"):
        import_residents(grids, tmp_path / "e.csv")


def test_batches(grids: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gridreach.residents_import.BATCH_SIZE", 2)
    report = import_residents(grids, write_csv(tmp_path / "r.csv", HEADER, ROWS))
    check_report(report)
    check_store(grids)


def test_load_geography(store: Any, tmp_path: Path) -> None:
    path = tmp_path / "geo.yml"
    path.write_text(
        """
streets:
  - code: S1
    name: 和平街道
    communities:
      - code: C1
        name: 幸福社区
        grids:
          - code: G01
            name: 第一网格
            worker: {name: 王秀英, phone: "138 0013 8000"}
          - {code: G02, name: 第二网格}
""",
        encoding="utf-8",
    )
    assert load_geography(store, path) == 2
    assert load_geography(store, path) == 2  # idempotent
    assert [g.code for g in store.grids()] == ["G01", "G02"]
    assert store.grid_worker_for("G01").phone == "+8613800138000"
    bad = tmp_path / "bad.yml"
    no_name = "streets:\n  - {code: S1, name: s, communities: [{code: C1, name: c, grids: [{code: G5}]}]}\n"
    with pytest.raises(ImportFileError, match="missing 'name'"):
        load_geography(store, _write(bad, no_name))
    with pytest.raises(ImportFileError, match="streets"):
        load_geography(store, _write(bad, "grids: []\n"))
    with pytest.raises(ImportFileError, match="worker"):
        load_geography(
            store,
            _write(bad, no_name.replace("{code: G5}", "{code: G5, name: g, worker: {name: w, phone: '1'}}")),
        )
    assert [g.code for g in store.grids()] == ["G01", "G02"]  # nothing written from a bad file
    with pytest.raises(ImportFileError, match="cannot read"):
        load_geography(store, _write(bad, "streets: [unclosed\n"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
