"""Notices to a grid's WeCom groups against a fake WeCom on 127.0.0.1: every group once, paced per robot, 45009
waited out and retried, a bad key failed clearly, app group chats too; receipts come back through the account."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bots.wechat import WeComAppChat, WeComRobot, WeComSettings, register_robot
from gridreach.errors import ConfigError
from gridreach.store import Store
from gridreach_fakes.wecom import FakeWeCom
from tests.bots._wechat import seed_grid

KEYS = {"fuxing-1": "key-aaaa-1111", "fuxing-2": "key-bbbb-2222", "fuxing-old": "key-revoked-0000"}


@pytest.fixture
def wecom() -> Iterator[FakeWeCom]:
    fake = FakeWeCom(robot_keys=("key-aaaa-1111", "key-bbbb-2222"), chats=("wrchat01",), window=1.0)
    yield fake
    fake.close()


def settings(fake: FakeWeCom) -> WeComSettings:
    return WeComSettings(corp_id=fake.corp_id, corp_secret=fake.corp_secret, agent_id=1000002,
                         api_base_url=fake.api_url, robot_keys=KEYS, robot_window=fake.window)


def test_a_notice_reaches_every_robot_group_of_the_grid_once(store: Store, wecom: FakeWeCom) -> None:
    seed_grid(store)
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "T02", "另一网格")
    config = settings(wecom)
    register_robot(store, config, "T01", "fuxing-1")
    register_robot(store, config, "T01", "fuxing-2")
    register_robot(store, config, "T02", "fuxing-old")  # another grid: must not get T01's notice
    with pytest.raises(ConfigError):
        register_robot(store, config, "T01", "not-configured")
    robot = WeComRobot(store, config)
    notice = store.create_notice("T01", "停水通知", "明天9点到12点停水", "王网格")
    first = robot.enqueue_notice(notice)
    assert sorted(first.queued) == ["fuxing-1", "fuxing-2"] and first.missing_keys == []
    report = asyncio.run(robot.drain_until_idle(timeout=30))
    assert report.sent == 2 and report.failed == []
    for key in ("key-aaaa-1111", "key-bbbb-2222"):
        (text,) = wecom.robot_texts(key)
        assert "停水通知" in text and "收到" in text
    again = robot.enqueue_notice(notice)  # a second send of the same notice queues nothing
    assert again.queued == [] and sorted(again.already) == ["fuxing-1", "fuxing-2"]
    assert asyncio.run(robot.drain_until_idle(timeout=5)).sent == 0
    assert [len(wecom.robot_texts(k)) for k in ("key-aaaa-1111", "key-bbbb-2222")] == [1, 1]


def test_robot_sends_are_paced_and_45009_is_waited_out(store: Store, wecom: FakeWeCom) -> None:
    wecom.window = 3.0  # long enough that the other sender's messages still count when we start
    seed_grid(store)
    config = settings(wecom)
    register_robot(store, config, "T01", "fuxing-1")
    robot = WeComRobot(store, config)
    notices = [store.create_notice("T01", f"通知{i}", f"内容{i}", "王网格") for i in range(25)]
    for notice in notices:
        robot.enqueue_notice(notice)
    wecom.used_by_others("key-aaaa-1111", 20)  # someone else just used the robot's whole minute
    report = asyncio.run(robot.drain_until_idle(timeout=60))
    assert report.sent == 25 and report.failed == [] and report.retried >= 1
    assert wecom.rate_limited  # the fake did say 45009 once
    texts = wecom.robot_texts("key-aaaa-1111")
    assert len(texts) == 25 and len(set(texts)) == 25  # every notice once, none doubled
    assert all(row.status == "sent" for row in store.list_outbound("wecom_robot"))


def test_a_bad_robot_key_fails_clearly(store: Store, wecom: FakeWeCom) -> None:
    seed_grid(store)
    config = settings(wecom)
    register_robot(store, config, "T01", "fuxing-old")  # configured, but WeCom does not know the key
    robot = WeComRobot(store, config)
    notice = store.create_notice("T01", "通知", "内容", "王网格")
    robot.enqueue_notice(notice)
    report = asyncio.run(robot.drain_until_idle(timeout=10))
    assert report.sent == 0 and report.failed == ["fuxing-old: robot key rejected (93000)"]
    (row,) = store.list_outbound("wecom_robot")
    assert row.status == "failed" and "93000" in (row.error or "")
    assert any(e.action == "wecom_robot.send_failed" for e in store.audit_entries("outbound", row.id))


def test_robot_bound_in_the_database_without_a_configured_key_is_reported(store: Store, wecom: FakeWeCom) -> None:
    seed_grid(store)
    store.bind_group("wecom_robot", "unknown-robot", "T01", "unknown-robot", "operator")
    report = WeComRobot(store, settings(wecom)).enqueue_notice(store.create_notice("T01", "通知", "内容", "王网格"))
    assert report.missing_keys == ["unknown-robot"] and report.queued == []
    assert store.list_outbound("wecom_robot") == []


def test_app_group_chat_notice(store: Store, wecom: FakeWeCom) -> None:
    seed_grid(store)
    store.bind_group("wecom_appchat", "wrchat01", "T01", "幸福社区T01居民群", "operator")
    chat = WeComAppChat(store, settings(wecom))
    notice = store.create_notice("T01", "疫苗接种", "周六上午在社区中心", "王网格")
    assert chat.enqueue_notice(notice).queued == ["wrchat01"]
    assert asyncio.run(chat.drain_until_idle(timeout=10)).sent == 1
    (message,) = wecom.appchat_messages["wrchat01"]
    assert message["msgtype"] == "markdown" and "疫苗接种" in message["markdown"]["content"]


def test_wecom_settings_hide_secrets_and_name_bad_keys() -> None:
    config = WeComSettings(corp_id="ww1", corp_secret="s3cret-value", robot_keys={"g1": "k-secret-1"})
    assert "s3cret-value" not in repr(config) and "k-secret-1" not in repr(config)
    with pytest.raises(ConfigError) as bad:
        WeComSettings.from_mapping({"robots": {"g1": "has space"}})
    assert bad.value.key == "robots.g1"
    with pytest.raises(ConfigError) as window:
        WeComSettings(robot_per_minute=25)
    assert window.value.key == "robot_per_minute"
