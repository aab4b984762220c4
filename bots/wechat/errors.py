"""Errors of the WeChat and WeCom connectors, part of GridReach's one error tree.

::

    GridReachError
    └── WeChatError
        ├── ForgedCallback              a callback's signature, msg_signature, ciphertext or AppID is wrong
        ├── MalformedCallback           a callback is not the XML WeChat sends
        ├── SendFailed                  the API could not be reached, or answered something unusable
        └── SendRefused(errcode)        the API answered with an error code
            ├── ServiceWindowClosed     45015: outside the 48 h customer-service window (or unsubscribed)
            ├── ServiceLimitReached     45047: too many customer-service messages since the user's last message
            ├── RateLimited             45009: too many calls (a group robot allows 20 messages a minute)
            └── BadRobotKey             93000: the group robot's webhook key is wrong

wechatpy and httpx exceptions are translated into these in ``bots.wechat.vendor`` and ``bots.wechat.wecom``.
"""

from __future__ import annotations

from gridreach.errors import GridReachError

__all__ = [
    "BadRobotKey",
    "ForgedCallback",
    "MalformedCallback",
    "RateLimited",
    "SendFailed",
    "SendRefused",
    "ServiceLimitReached",
    "ServiceWindowClosed",
    "WeChatError",
    "refusal",
]


class WeChatError(GridReachError):
    """Something went wrong talking to WeChat or WeCom."""


class ForgedCallback(WeChatError):
    """A callback that WeChat did not sign (or whose ciphertext does not decrypt to our AppID)."""


class MalformedCallback(WeChatError):
    """A callback body that is not the XML WeChat sends."""


class SendFailed(WeChatError):
    """The API could not be reached or answered something that is not its JSON."""


class SendRefused(WeChatError):
    """The API answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"errcode {errcode}: {errmsg}" if errmsg else f"errcode {errcode}")


class ServiceWindowClosed(SendRefused):
    """45015: the user has not written in the last 48 hours, or unsubscribed."""


class ServiceLimitReached(SendRefused):
    """45047: the customer-service message limit since the user's last message is used up."""


class RateLimited(SendRefused):
    """45009: API frequency limit (a group robot takes 20 messages a minute)."""


class BadRobotKey(SendRefused):
    """93000: the group robot's webhook key is invalid (the robot was removed, or the key is mistyped)."""


_BY_CODE: dict[int, type[SendRefused]] = {
    45015: ServiceWindowClosed,
    45047: ServiceLimitReached,
    45009: RateLimited,
    93000: BadRobotKey,
}


def refusal(errcode: int, errmsg: str = "") -> SendRefused:
    """The error for an API answer with ``errcode`` (the errmsg is WeChat's, it holds no message text)."""
    return _BY_CODE.get(errcode, SendRefused)(errcode, errmsg[:200])
