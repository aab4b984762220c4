"""The demo: a sample community screened end to end, then a grid over Telegram, WeChat/WeCom and phone calls
against the loopback fakes (``gridreach_fakes``). ``gridreach demo`` (registered by ``gridreach_demo.command``)."""

__all__: list[str] = []
