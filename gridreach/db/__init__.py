"""Database layer: models, engine factory, migrations. Only ``gridreach.store`` uses it."""

__all__: list[str] = []
