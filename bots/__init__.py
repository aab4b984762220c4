"""Chat connectors (Telegram, WeChat/WeCom) as Rasa input/output channels: built in issue #3."""

__all__: list[str] = []
