"""Chat connectors as Rasa input/output channels: Telegram groups and private chats (``bots.telegram``), the
WeChat Official Account and WeCom groups (``bots.wechat``), and the rate limiter both pace their sending with
(``bots.pacing``)."""

__all__: list[str] = []
