"""Per-grid completion and risk, formatted for a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from gridreach.views import GridSummary

__all__ = ["format_summary", "totals"]

_COLUMNS = ("residents", "complete", "partial", "in_progress", "abandoned", "not_reached")
_RISKS = ("high", "moderate", "low")


def totals(rows: Sequence[GridSummary]) -> dict[str, int]:
    out = {name: sum(getattr(r, name) for r in rows) for name in _COLUMNS}
    out.update({f"risk_{level}": sum(r.risk.get(level, 0) for r in rows) for level in _RISKS})
    return out


def format_summary(rows: Sequence[GridSummary]) -> str:
    header = ["grid", *_COLUMNS, *(f"risk {lvl}" for lvl in _RISKS)]
    table = [header]
    for r in rows:
        table.append(
            [f"{r.grid_code} {r.grid_name}", *(str(getattr(r, c)) for c in _COLUMNS), *(str(r.risk.get(lvl, 0)) for lvl in _RISKS)]
        )
    t = totals(rows)
    table.append(["total", *(str(t[c]) for c in _COLUMNS), *(str(t[f"risk_{lvl}"]) for lvl in _RISKS)])
    widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, widths[i], i) for i, cell in enumerate(row)) for row in table]
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, column: int) -> str:
    space = " " * (width - _width(text))
    return text + space if column == 0 else space + text
