"""The one error tree of GridReach.

::

    GridReachError
    ├── ConfigError(key, reason)          a setting is missing or has a bad value
    ├── StorageError                      the database failed or refused an operation
    │   ├── NotFound                      a referenced row does not exist
    │   ├── GroupConflict(grid)           a chat group is bound to another grid
    │   └── QuestionnaireVersionConflict  same questionnaire id + version, different content
    ├── DefinitionError(path, line, reason)  a campaign / questionnaire file is wrong
    ├── ImportFileError                   a resident or geography file cannot be read
    ├── LinkCodeError(reason)             a one-time binding code is unknown, used or expired
    ├── ChannelError                      a channel (Telegram, WeChat / WeCom, Twilio) refused or failed a call
    │   ├── RateLimited(retry_after)      over the vendor's rate limit: wait ``retry_after`` s, then send again
    │   ├── RecipientGone                 the person blocked the bot, or the bot was removed from the group
    │   ├── ChatMoved(new_chat_id)        the group became another chat (Telegram supergroup migration)
    │   ├── ChannelUnavailable            the vendor is down or unreachable (5xx, timeout): retry with backoff
    │   ├── Refused(code, detail)         refused, with the vendor's code (if any): do not retry
    │   ├── ForgedRequest                 a callback / webhook whose signature or token is wrong
    │   ├── MalformedRequest              a callback / webhook that is not what the vendor sends
    │   └── TelephonyError(status, code, retryable, unconfirmed)   Twilio refused or could not be reached
    └── VoiceError                        the voice path failed (speech recognition, synthesis)
        └── SynthesisError                text-to-speech failed, hung or produced no audio

Vendor exceptions (SQLAlchemy, openpyxl, YAML, python-telegram-bot, wechatpy, httpx, twilio, ...) are translated
into these at the module that adapts the vendor; the vendor's error-code tables live there too, and a vendor-specific
child (e.g. ``ServiceWindowClosed(Refused)`` in ``bots.wechat.api``, ``SpeechModelMissing(VoiceError)`` in
``voice_caller.asr``) lives next to its adapter, as do a few internal signals of one package (``DialogueError`` in
``gridreach.dialogue``, ``UpdateBusy`` in ``bots.telegram.updates``, ``ActionServerError`` in the app), each a child
of a class here. Callers catch ``GridReachError`` or one of its children.
"""

from __future__ import annotations

__all__ = [
    "ChannelError",
    "ChannelUnavailable",
    "ChatMoved",
    "ConfigError",
    "DefinitionError",
    "ForgedRequest",
    "GridReachError",
    "GroupConflict",
    "ImportFileError",
    "LinkCodeError",
    "MalformedRequest",
    "NotFound",
    "QuestionnaireVersionConflict",
    "RateLimited",
    "RecipientGone",
    "Refused",
    "StorageError",
    "SynthesisError",
    "TelephonyError",
    "VoiceError",
]


class GridReachError(Exception):
    """Root of every error GridReach raises on purpose."""


class ConfigError(GridReachError):
    """A setting is missing or invalid; ``key`` names it (never its secret value)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class StorageError(GridReachError):
    """The database failed, or refused an operation."""


class NotFound(StorageError):
    """A referenced row (grid, resident, submission, ...) does not exist."""


class GroupConflict(StorageError):
    """A chat group is bound to another grid; only an administrator may move it (``grid`` names that grid)."""

    def __init__(self, grid: str) -> None:
        self.grid = grid
        super().__init__(f"the group is bound to grid {grid}; ask that grid's worker or an administrator")


class QuestionnaireVersionConflict(StorageError):
    """A questionnaire id + version is already registered with different content."""


class DefinitionError(GridReachError):
    """A definition file (questionnaire, campaign, notice) is invalid at ``path:line``."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class ImportFileError(GridReachError):
    """An import file is unreadable, malformed, or lacks required columns."""


class LinkCodeError(GridReachError):
    """A one-time code a resident typed cannot bind them: ``reason`` is ``unknown``, ``used`` or ``expired``."""

    REASONS = ("unknown", "used", "expired")

    def __init__(self, reason: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown link code failure {reason!r}")
        self.reason = reason
        super().__init__(f"link code {reason}")


# ---- channels: one vocabulary for every chat platform and telephony vendor ---------------------------------------
class ChannelError(GridReachError):
    """A channel (chat platform, telephony vendor) refused or failed a call."""


class RateLimited(ChannelError):
    """Over the vendor's rate limit; ``retry_after`` seconds to wait before sending again."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        self.retry_after = float(retry_after)
        super().__init__(f"{message}: retry after {self.retry_after:g} s")


class RecipientGone(ChannelError):
    """The recipient cannot be reached any more (blocked the bot, bot removed from the group)."""


class ChatMoved(ChannelError):
    """The chat moved to ``new_chat_id`` (a Telegram group upgraded to a supergroup)."""

    def __init__(self, new_chat_id: int | str) -> None:
        self.new_chat_id = new_chat_id
        super().__init__(f"the chat moved to {new_chat_id}")


class ChannelUnavailable(ChannelError):
    """The vendor is down, unreachable, or answered something unusable; the call may be retried later."""


class Refused(ChannelError):
    """The vendor refused the request itself (``code``: the vendor's error code, when it gives one); sending it
    again would be refused again. ``detail`` is the vendor's reason (never a message text)."""

    def __init__(self, code: int | str | None = None, detail: str = "", *, message: str | None = None) -> None:
        self.code = code
        self.detail = detail
        if message is None:
            message = "refused" + (f" ({code})" if code is not None else "") + (f": {detail}" if detail else "")
        super().__init__(message)


class ForgedRequest(ChannelError):
    """A callback or webhook the vendor did not sign (signature, token, ciphertext or app id wrong or missing)."""


class MalformedRequest(ChannelError):
    """A callback or webhook body that is not what the vendor sends."""


class TelephonyError(ChannelError):
    """Twilio refused a request (``status``, ``code``) or could not be reached; ``retryable`` for 429/5xx/network.

    ``unconfirmed``: a call creation may have reached Twilio and whether it did could not be learnt (the look-up
    failed too): the call must not be placed again; its status callbacks, if it exists, will name it.
    """

    def __init__(
        self, message: str, *, status: int | None = None, code: int | None = None, retryable: bool = False,
        unconfirmed: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable
        self.unconfirmed = unconfirmed


# ---- voice --------------------------------------------------------------------------------------------------------
class VoiceError(GridReachError):
    """Anything that went wrong on the voice path (speech recognition, synthesis)."""


class SynthesisError(VoiceError):
    """Speech synthesis failed, hung, or produced no usable audio (the text is never in the message)."""
