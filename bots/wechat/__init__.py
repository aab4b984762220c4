"""WeChat Official Account (公众号) and WeCom (企业微信) group connectors.

* ``WeChatInput`` — the Official Account as a Rasa input channel (``credentials.yml``); ``OfficialAccount.build``
  wires the same parts around any dialogue for the app's embedded runtime.
* ``WeComRobot`` / ``WeComAppChat`` — notices to a grid's WeCom groups through the outbox, paced;
  ``register_robot`` binds a configured group robot to a grid.

Only ``bots.wechat.api`` imports wechatpy. The names below are imported when first asked for, so that
importing ``bots.wechat.config`` (or ``bots.wechat.connector``) imports neither Rasa nor wechatpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "OfficialAccountBot": "bot", "OfficialAccount": "channel", "WeChatInput": "channel", "WeChatOutput": "channel",
    "OfficialAccountSettings": "config", "WeComSettings": "config", "ServiceSender": "sender",
    "CallbackCodec": "api", "Inbound": "api", "OfficialAccountAPI": "api", "WeComAppAPI": "api",
    "WeComAppChat": "wecom", "WeComRobot": "wecom", "register_robot": "wecom",
}

__all__ = [
    "CallbackCodec",
    "Inbound",
    "OfficialAccount",
    "OfficialAccountAPI",
    "OfficialAccountBot",
    "OfficialAccountSettings",
    "ServiceSender",
    "WeChatInput",
    "WeChatOutput",
    "WeComAppAPI",
    "WeComAppChat",
    "WeComRobot",
    "WeComSettings",
    "register_robot",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"bots.wechat.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'bots.wechat' has no attribute {name!r}")
