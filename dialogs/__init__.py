"""The Rasa side of GridReach: domain and rules (YAML), custom actions, the NLU value extractor."""

__all__: list[str] = []
