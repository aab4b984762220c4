"""Import geography (YAML) and residents (CSV / XLSX) through the Store.

Every data row read is either imported or refused with its row number and a reason:
``report.imported + len(report.refused) == report.rows_read``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import logging
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridreach.errors import ImportFileError, NotFound, StorageError
from gridreach.phones import mask_phone, normalize_phone
from gridreach.store import Store
from gridreach.views import NewResident

__all__ = ["COLUMN_ALIASES", "ImportReport", "RefusedRow", "import_residents", "load_geography"]

log = logging.getLogger(__name__)

BATCH_SIZE = 500
REQUIRED = ("grid_code", "address", "name", "phone")
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "grid_code": ("grid_code", "grid", "网格编码", "网格代码", "网格编号", "网格"),
    "address": ("address", "地址", "住址", "家庭住址"),
    "name": ("name", "姓名", "名字"),
    "phone": ("phone", "mobile", "电话", "手机", "手机号", "手机号码", "联系电话"),
    "birth_year": ("birth_year", "出生年份", "出生年"),
    "language": ("language", "语言"),
}
LANGUAGE_ALIASES = {
    "zh": "zh", "cn": "zh", "中文": "zh", "汉语": "zh", "普通话": "zh", "chinese": "zh",
    "en": "en", "english": "en", "英语": "en", "英文": "en",
    "ko": "ko", "kr": "ko", "korean": "ko", "韩语": "ko", "朝鲜语": "ko", "한국어": "ko",
}  # fmt: skip


@dataclass(frozen=True)
class RefusedRow:
    row: int  # row number in the file, header = row 1
    reason: str
    raw: Mapping[str, str]


@dataclass
class ImportReport:
    path: str
    rows_read: int = 0
    imported: int = 0
    refused: list[RefusedRow] = field(default_factory=list)

    def format(self) -> str:
        """A report for people; phone numbers are masked."""
        lines = [
            f"{self.path}: {self.rows_read} rows read, {self.imported} imported, {len(self.refused)} refused"
        ]
        for refused in self.refused:
            phone = mask_phone(refused.raw.get("phone", ""))
            lines.append(f"  row {refused.row}: {refused.reason}" + (f" (phone {phone})" if phone else ""))
        return "\n".join(lines)


# ---- geography -------------------------------------------------------------------------
def load_geography(store: Store, path: str | Path) -> int:
    """Load streets → communities → grids (with grid workers) from YAML; returns grids loaded.

    Format::

        streets:
          - code: HP
            name: 和平街道
            communities:
              - code: HP-XF
                name: 幸福社区
                grids:
                  - {code: G01, name: 第一网格, worker: {name: 王芳, phone: "13800138000", language: zh}}
    """
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ImportFileError(f"{path}: cannot read geography ({type(exc).__name__})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("streets"), list):
        raise ImportFileError(f"{path}: expected a top-level 'streets:' list")
    plan: list[tuple[tuple[str, str, str, str, str, str], tuple[str, str, str] | None]] = []
    for street in doc["streets"]:  # validate everything before writing anything
        for community in _items(path, street, "communities"):
            for grid in _items(path, community, "grids"):
                names = (
                    _text(path, street, "code"), _text(path, street, "name"),
                    _text(path, community, "code"), _text(path, community, "name"),
                    _text(path, grid, "code"), _text(path, grid, "name"),
                )  # fmt: skip
                plan.append((names, _worker(path, names[4], grid.get("worker"))))
    for names, worker in plan:
        store.ensure_grid(*names)
        if worker is not None:
            store.add_grid_worker(names[4], *worker)
    return len(plan)


def _worker(path: str | Path, grid_code: str, node: Any) -> tuple[str, str, str] | None:
    if node is None:
        return None
    if not isinstance(node, dict):
        raise ImportFileError(f"{path}: grid {grid_code} worker must be a mapping")
    language = str(node.get("language", "zh"))
    try:
        phone = normalize_phone(_text(path, node, "phone"))
    except ValueError as exc:
        raise ImportFileError(f"{path}: grid {grid_code} worker: {exc}") from None
    if language not in LANGUAGE_ALIASES.values():
        raise ImportFileError(f"{path}: grid {grid_code} worker: unsupported language {language!r}")
    return _text(path, node, "name"), phone, language


def _items(path: str | Path, node: Any, key: str) -> list[dict[str, Any]]:
    items = node.get(key) if isinstance(node, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ImportFileError(f"{path}: '{key}' must be a list of mappings")
    return items


def _text(path: str | Path, node: Mapping[str, Any], key: str) -> str:
    value = node.get(key)
    if value is None or str(value).strip() == "":
        raise ImportFileError(f"{path}: missing '{key}' in {dict(node).get('code', node)!r}")
    return str(value).strip()


# ---- residents -------------------------------------------------------------------------
def import_residents(store: Store, path: str | Path) -> ImportReport:
    """Import residents from CSV (UTF-8, UTF-8-BOM, GB18030) or XLSX; see the module doc."""
    path = Path(path)
    report = ImportReport(str(path))
    header, rows = _read_table(path)
    columns = _map_columns(path, header)
    grid_codes = {grid.code for grid in store.grids()}
    parsed: list[tuple[int, dict[str, str]]] = []
    for number, values in rows:
        raw = {name: _cell(values, index) for name, index in columns.items()}
        if not any(raw.values()):
            continue
        report.rows_read += 1
        parsed.append((number, raw))
    taken_phones = store.existing_phones(_phones_of(parsed))
    known = store.known_residents(grid_codes)
    pending: list[tuple[int, dict[str, str], NewResident]] = []
    for number, raw in parsed:
        resident, reason = _validate(raw, grid_codes, taken_phones, known)
        if resident is None:
            report.refused.append(RefusedRow(number, reason, raw))
            continue
        if resident.phone:
            taken_phones.add(resident.phone)
        known.add((resident.grid_code, resident.address, resident.name))
        pending.append((number, raw, resident))
    for start in range(0, len(pending), BATCH_SIZE):
        _store_batch(store, pending[start : start + BATCH_SIZE], report)
    report.refused.sort(key=lambda r: r.row)
    log.info("resident import %s: %d read, %d imported, %d refused",
             path.name, report.rows_read, report.imported, len(report.refused))  # fmt: skip
    return report


def _store_batch(
    store: Store, batch: Sequence[tuple[int, dict[str, str], NewResident]], report: ImportReport
) -> None:
    try:
        store.add_residents([resident for _, _, resident in batch])
        report.imported += len(batch)
        return
    except StorageError:
        log.warning("batch insert failed (concurrent import?), retrying row by row")
    for number, raw, resident in batch:  # someone else inserted meanwhile: find which rows
        try:
            store.add_residents([resident])
            report.imported += 1
        except NotFound:
            report.refused.append(RefusedRow(number, f"unknown grid {resident.grid_code!r}", raw))
        except StorageError:
            report.refused.append(RefusedRow(number, "duplicate: phone already registered", raw))


def _validate(
    raw: Mapping[str, str], grids: set[str], taken_phones: set[str], known: set[tuple[str, str, str]]
) -> tuple[NewResident | None, str]:
    grid, address, name = raw.get("grid_code", ""), raw.get("address", ""), raw.get("name", "")
    if not name:
        return None, "missing name"
    if not address:
        return None, "missing address"
    if not grid:
        return None, "missing grid code"
    if grid not in grids:
        return None, f"unknown grid {grid!r}"
    phone: str | None = None
    if raw.get("phone"):
        try:
            phone = normalize_phone(raw["phone"])
        except ValueError as exc:
            return None, f"bad phone: {exc}"
    birth_year: int | None = None
    if raw.get("birth_year"):
        birth_year = _year(raw["birth_year"])
        if birth_year is None:
            return None, f"bad birth year (expected 1900..{_dt.date.today().year})"
    language = LANGUAGE_ALIASES.get((raw.get("language") or "zh").strip().lower())
    if language is None:
        return None, "unsupported language (expected zh, en or ko)"
    if phone is not None and phone in taken_phones:
        return None, "duplicate: phone already registered (in the database or earlier in this file)"
    if phone is None and (grid, address, name) in known:
        return None, "duplicate: same name already registered at this address"
    return NewResident(grid, address, name, phone, birth_year, language), ""


def _year(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not value.is_integer() or not 1900 <= value <= _dt.date.today().year:
        return None
    return int(value)


def _phones_of(rows: Sequence[tuple[int, dict[str, str]]]) -> set[str]:
    phones = set()
    for _, raw in rows:
        with contextlib.suppress(ValueError):
            phones.add(normalize_phone(raw.get("phone", "")))
    return phones


# ---- reading files ---------------------------------------------------------------------
def _map_columns(path: Path, header: Sequence[str]) -> dict[str, int]:
    lookup = {alias.lower(): name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        name = lookup.get(title.strip().lower())
        if name is not None and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportFileError(f"{path}: missing required column(s): {', '.join(missing)}")
    return columns


def _cell(values: Sequence[Any], index: int) -> str:
    if index >= len(values) or values[index] is None:
        return ""
    value = values[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, Sequence[Any]]]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        rows = _read_csv(path)
    else:
        raise ImportFileError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")
    if not rows:
        raise ImportFileError(f"{path}: the file is empty")
    header = [_cell(rows[0], i) for i in range(len(rows[0]))]
    return header, list(enumerate(rows[1:], start=2))


def _read_csv(path: Path) -> list[Sequence[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                return list(csv.reader(handle))
        except UnicodeDecodeError:
            continue
        except (OSError, csv.Error) as exc:
            raise ImportFileError(f"{path}: cannot read CSV ({exc.__class__.__name__}: {exc})") from exc
    raise ImportFileError(f"{path}: not UTF-8 or GB18030 text")


def _read_xlsx(path: Path) -> list[Sequence[Any]]:
    import openpyxl  # only the XLSX path needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ImportFileError(f"{path}: cannot read XLSX ({exc.__class__.__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
