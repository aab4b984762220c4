"""The outbound voice caller: places calls through Twilio's REST API and runs each one over a Media Stream,
the questionnaire's prompts spoken with pyttsx3 (espeak-ng), the resident's answers recognised with Vosk or read
from the keypad, and a transfer to the grid worker on request."""

__all__: list[str] = []
