"""The assistant's fixed texts: every language present, fields filled, no gap where a field is empty."""

from __future__ import annotations

from campaigns.phrases import all_phrases, phrase


def test_every_phrase_has_chinese_english_and_korean() -> None:
    for key, texts in all_phrases().items():
        assert {"zh", "en", "ko"} <= set(texts), key
        assert all(text.strip() for text in texts.values()), key


def test_fields_are_filled_and_empty_ones_leave_no_gap() -> None:
    assert phrase("handoff", "zh", grid_worker="王秀英") == "好的，已通知网格员王秀英，会尽快联系您。"
    assert phrase("handoff", "en") == "All right, your grid worker has been told and will contact you soon."
    assert "  " not in phrase("opt_out_confirmed", "en")


def test_an_unknown_language_falls_back_to_chinese() -> None:
    assert phrase("goodbye", "fr") == phrase("goodbye", "zh")
