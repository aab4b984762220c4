"""Load the synthetic sample community (3 grids, ~1,300 residents) once."""

from __future__ import annotations

from gridreach.residents_import import import_residents, load_geography
from gridreach.sample import COMMUNITY_YML, RESIDENTS_CSV
from gridreach.store import Store

__all__ = ["load_sample"]


def load_sample(store: Store) -> str:
    """Load the sample grids and residents unless they are already there; say what happened."""
    grids = load_geography(store, COMMUNITY_YML)
    if store.residents_in_grid("G01"):
        return f"Sample community already loaded ({grids} grids). Next: gridreach demo"
    report = import_residents(store, RESIDENTS_CSV)
    if report.refused:
        raise RuntimeError("the shipped sample has refused rows:\n" + report.format())
    return f"Loaded the sample community: {grids} grids, {report.imported} residents. Next: gridreach demo"
