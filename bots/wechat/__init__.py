"""WeChat Official Account (公众号) and WeCom (企业微信) group connectors.

* ``WeChatInput`` — the Official Account as a Rasa input channel (``credentials.yml``); ``OfficialAccount.build``
  wires the same parts around any dialogue for the app's embedded runtime.
* ``WeComRobot`` / ``WeComAppChat`` — notices to a grid's WeCom groups through the outbox, paced;
  ``register_robot`` binds a configured group robot to a grid.

Only ``bots.wechat.vendor`` imports wechatpy.
"""

from __future__ import annotations

from bots.wechat.bot import OfficialAccountBot
from bots.wechat.channel import OfficialAccount, WeChatInput, WeChatOutput
from bots.wechat.config import OfficialAccountSettings, WeComSettings
from bots.wechat.sender import ServiceSender
from bots.wechat.vendor import CallbackCodec, Inbound, OfficialAccountAPI, WeComAppAPI
from bots.wechat.wecom import WeComAppChat, WeComRobot, register_robot

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
