"""GridReach core: settings, errors, storage and resident import.

This package imports nothing from the other GridReach packages.
"""

__all__: list[str] = []

__version__ = "0.1.0"
