"""The outbound voice caller (Twilio Media Streams, Vosk, pyttsx3): built in issue #4."""

__all__: list[str] = []
