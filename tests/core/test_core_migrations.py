"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from gridreach.db.engine import make_engine
from gridreach.db.migrate import alembic_config, upgrade
from gridreach.db.models import metadata

EXPECTED_TABLES = {
    "streets", "communities", "grids", "grid_workers", "households", "residents", "channel_identities",
    "opt_outs", "questionnaire_versions", "campaigns", "contact_attempts", "submissions", "answers",
    "inbound_messages", "notices", "notice_receipts", "audit_log",
    # 0002: channels
    "chat_groups", "worker_identities", "worker_codes", "link_codes", "campaign_links", "outbound_messages",
    "service_windows",
    # 0003: binding limits, replay protection, campaigns opened before binding
    "limited_attempts", "seen_nonces", "pending_campaigns",
}  # fmt: skip


def test_migrations_match_models(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
            tables = set(inspect(conn).get_table_names())
            version = context.get_current_revision()
    finally:
        engine.dispose()
    assert diff == [], diff
    assert tables >= EXPECTED_TABLES
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_models_cover_every_expected_table() -> None:
    assert set(metadata.tables) == EXPECTED_TABLES


def test_downgrade_then_upgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        with engine.connect() as conn:
            assert not EXPECTED_TABLES & set(inspect(conn).get_table_names())
        upgrade(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= EXPECTED_TABLES
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'g.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        engine.dispose()
    assert (tmp_path / "deep" / "dir" / "g.db").exists()
