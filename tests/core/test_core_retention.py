"""Retention (issue 9, data at rest): files readable by their owner only, and a purge that enforces the policy.

Trackers are written by Rasa's own SQL tracker store (as the embedded runtime keeps them), the rest by the Store;
the store side runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from gridreach.db.engine import make_engine
from gridreach.db.models import utcnow
from gridreach.errors import ConfigError
from gridreach.identity import resident_sender_id
from gridreach.store.retention import RetentionPolicy


def _conversation(path: Path, sender: str, days_ago: float) -> None:
    """One turn of ``sender`` ``days_ago`` days ago, saved by Rasa's SQL tracker store."""
    when = (utcnow() - timedelta(days=days_ago)).timestamp()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker(sender, None)
    tracker.update(UserUttered("36.6", {"name": "inform"}, timestamp=when))
    tracker.update(ActionExecuted("action_listen", timestamp=when))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def _senders(path: Path) -> set[str]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT sender_id FROM events")}
    finally:
        engine.dispose()


def test_the_purge_keeps_what_the_policy_keeps(geo: Any, resident_id: int, tmp_path: Path) -> None:
    trackers = tmp_path / "trackers.db"
    old_done = int(geo.add_resident("G01", "1栋102室", "张三", "139 0013 9001", 1960, "zh"))
    old_running = int(geo.add_resident("G01", "1栋103室", "李四", "139 0013 9002", 1961, "zh"))
    _conversation(trackers, resident_sender_id(resident_id), days_ago=2)  # recent: kept
    _conversation(trackers, resident_sender_id(old_done), days_ago=45)  # old, no running campaign: purged
    _conversation(trackers, resident_sender_id(old_running), days_ago=45)  # old, campaign still running: kept
    _conversation(trackers, "telegram:777", days_ago=60)  # never bound, old: purged
    running = _running_campaign(geo, old_running)
    assert running

    for i in range(3):
        assert geo.claim_message("wechat", f"m{i}")
    sent = geo.enqueue_outbound("telegram", "42", {"text": "通知"}, "k1")
    pending = geo.enqueue_outbound("telegram", "43", {"text": "通知"}, "k2")
    geo.mark_outbound_sent(sent, "1")
    later = utcnow() + timedelta(days=20)  # 20 days on: message ids (14 d) and the sent row (14 d) go

    policy = RetentionPolicy()
    dry = geo.purge(policy, tracker_url=f"sqlite:///{trackers}", now=later, dry_run=True)
    assert (dry.conversations, dry.message_ids, dry.outbox, dry.dry_run) == (2, 3, 1, True)
    assert dry.tracker_events >= 4
    assert len(_senders(trackers)) == 4  # a dry run deletes nothing

    done = geo.purge(policy, tracker_url=f"sqlite:///{trackers}", now=later)
    assert (done.conversations, done.tracker_events, done.message_ids, done.outbox) == \
        (2, dry.tracker_events, 3, 1)
    assert _senders(trackers) == {resident_sender_id(resident_id), resident_sender_id(old_running)}
    assert pending is not None  # not sent yet: kept
    again = geo.purge(policy, tracker_url=f"sqlite:///{trackers}", now=later)
    assert (again.conversations, again.message_ids, again.outbox) == (0, 0, 0)
    assert geo.claim_message("wechat", "m0")  # the id was forgotten


def _running_campaign(store: Any, resident: int) -> int:
    """A campaign in G01 still running, with a submission of ``resident`` in it."""
    from campaigns.loader import load_directory
    from gridreach_app.model import PROJECT_ROOT

    q = load_directory(PROJECT_ROOT / "campaigns" / "questionnaires")["daily_health"]
    store.register_questionnaire(q.id, q.version, q.content_hash, q.title.get("zh", q.id), q.to_dict())
    campaign = store.create_campaign("每日健康", "G01", q.id, q.version, "王秀英")
    store.set_campaign_status(campaign, "running", "王秀英")
    store.start_submission(resident, q.id, q.version, campaign, "telegram", "zh")
    return int(campaign)


def test_retention_settings_are_checked(tmp_path: Path) -> None:
    assert RetentionPolicy.from_env({}) == RetentionPolicy(30, 14, 14)
    assert RetentionPolicy.from_env({"GRIDREACH_RETAIN_TRACKERS_DAYS": "90"}).trackers_days == 90
    with pytest.raises(ConfigError, match="GRIDREACH_RETAIN_OUTBOX_DAYS"):
        RetentionPolicy.from_env({"GRIDREACH_RETAIN_OUTBOX_DAYS": "a week"})
    with pytest.raises(ConfigError, match="GRIDREACH_RETAIN_TRACKERS_DAYS"):
        RetentionPolicy.from_env({"GRIDREACH_RETAIN_TRACKERS_DAYS": "0"})


def test_a_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from gridreach.store import Store

    old = os.umask(0o022)  # a permissive umask, as a fresh shell has
    try:
        store = Store.from_url(f"sqlite:///{tmp_path / 'data' / 'gridreach.db'}")
        store.migrate()
        store.close()
        shared = tmp_path / "shared.db"
        shared.write_bytes(b"")
        shared.chmod(0o644)
        Store.from_url(f"sqlite:///{shared}").close()
    finally:
        os.umask(old)
    for path in (tmp_path / "data").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path  # the database and its -wal / -shm
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600


def test_the_purge_command_says_what_it_deleted(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDREACH_HOME": str(tmp_path), "GRIDREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    _conversation(tmp_path / "trackers.db", "telegram:1", days_ago=100)
    out = subprocess.run([sys.executable, "-m", "gridreach_app.cli", "purge", "--dry-run"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "将删除: 对话记录 1 段" in out.stdout
    out = subprocess.run([sys.executable, "-m", "gridreach_app.cli", "purge"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "已删除: 对话记录 1 段" in out.stdout, out.stdout + out.stderr
    assert _senders(tmp_path / "trackers.db") == set()
    assert stat.S_IMODE((tmp_path / "g.db").stat().st_mode) == 0o600
    bad = subprocess.run([sys.executable, "-m", "gridreach_app.cli", "purge"],
                         env={**env, "GRIDREACH_RETAIN_TRACKERS_DAYS": "x"}, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "GRIDREACH_RETAIN_TRACKERS_DAYS" in bad.stderr
