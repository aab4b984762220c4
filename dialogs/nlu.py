"""A Rasa NLU component that extracts and normalises values with campaigns.normalize.

Temperatures, counts, dates and train/flight/plate numbers must come out the same every time
("三十七度五", "37度5" and "37.5" are all 37.5), so they are parsed, not learned. Listed in ``config.yml`` as
``dialogs.nlu.ValueExtractor``. Entities carry their normalised value; the span is the whole message, since
residents answer one value at a time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack

from campaigns import normalize

__all__ = ["BODY_TEMPERATURE", "LogisticRegressionIntents", "ValueExtractor", "extract_values"]

#: A number is also offered as a temperature only when a body could have it (°C, after °F conversion).
BODY_TEMPERATURE = (30.0, 45.0)


def extract_values(text: str, today: date | None = None) -> list[dict[str, Any]]:
    """The normalised values found in ``text``, as Rasa entity dicts (without extractor name)."""
    found: list[tuple[str, Any]] = []
    transport = normalize.parse_transport_no(text)
    if transport is not None:
        found.append(("transport_no", transport))
    temperature = normalize.parse_temperature(text)
    if temperature is not None and not BODY_TEMPERATURE[0] <= temperature <= BODY_TEMPERATURE[1]:
        temperature = None
    if temperature is not None:
        found.append(("temperature", temperature))
    number = normalize.parse_number(text)
    if number is not None and transport is None and temperature in (None, number):
        found.append(("number", number))
    day = normalize.parse_date(text, today or date.today())
    if day is not None:
        found.append(("date", day.isoformat()))
    return [
        {"entity": name, "start": 0, "end": len(text), "value": value, "confidence_entity": 1.0}
        for name, value in found
    ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ValueExtractor(GraphComponent, EntityExtractorMixin):
    """Adds normalised temperature, number, date and transport_no entities to each message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ValueExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            entities = self.add_extractor_name(extract_values(text))
            if entities:
                message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LogisticRegressionIntents(LogisticRegressionClassifier):
    """Rasa's LogisticRegressionClassifier, safe on a message with no features.

    A message of emoji, spaces or characters the featurizers never saw has no sparse features; the stock
    component then hands scikit-learn a 0-column row and the whole turn fails. Here such a row is all zeros of the
    trained width: the classifier falls back to its priors, below the FallbackClassifier's threshold.
    """

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        width = getattr(self.clf, "n_features_in_", None)
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            dense = message.get_dense_features(attribute=TEXT)[1]
            parts = [csr_matrix(f.features) for f in (sparse, dense) if f is not None]
            row = hstack(parts).tocsr() if parts else csr_matrix((1, width or 0))
            if width is not None and row.shape[1] != width:
                row = csr_matrix((1, width))
            rows.append(row)
        return vstack(rows).tocsr()
