"""The GridReach application: the `gridreach` command and the embedded runtime that wires the packages."""

__all__: list[str] = []
