"""Loading questionnaires: the shipped ones load; broken ones fail at the right line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaigns import QUESTIONNAIRE_DIR, DefinitionError, load_directory, load_questionnaire
from campaigns.loader import parse_questionnaire

GOOD = """\
id: demo
version: 3
title: {zh: 演示, en: Demo}
languages: [zh, en]
questions:
  - key: temperature
    type: number
    unit: celsius
    min: 34
    max: 43
    prompt:
      zh: 体温是多少度？
      en: What is your temperature?
  - key: travel
    type: yes_no
    prompt: {zh: 您出过本市吗？, en: Have you left the city?}
  - key: place
    type: place
    when: travel == "yes"
    prompt: {zh: 去了哪里？, en: Where did you go?}
derived:
  fever: temperature >= 37.3
risk:
  rules:
    - level: high
      when: fever and age > 65
  default: low
closing:
  high: {zh: 网格员会联系您。, en: Your grid worker will call you.}
  low: {zh: 谢谢。, en: Thank you.}
"""


def write(tmp_path: Path, text: str, name: str = "demo.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def marked(text: str) -> tuple[str, int]:
    """Remove the '#!' marker and return the text and the marked line (1-based)."""
    lines = text.splitlines()
    line = next(i for i, s in enumerate(lines, 1) if "#!" in s)
    return "\n".join(s.split("  #!")[0] for s in lines) + "\n", line


def test_good_definition_parses(tmp_path: Path) -> None:
    q = load_questionnaire(write(tmp_path, GOOD))
    assert (q.id, q.version, q.languages, q.keys) == ("demo", 3, ("zh", "en"), ("temperature", "travel", "place"))
    temp = q.question("temperature")
    assert (temp.min, temp.max, temp.unit, temp.required, temp.max_tries, temp.confirm_below) == (
        34.0, 43.0, "celsius", True, 2, 0.6)
    when = q.question("place").when
    assert when is not None and when.names == ("travel",)
    assert [name for name, _ in q.derived] == ["fever"]
    assert q.risk[0].level == "high" and q.default_risk == "low"


BROKEN = [
    ("unknown type", GOOD.replace("    type: yes_no\n", "    type: yes_or_no  #!\n"),
     "unknown question type 'yes_or_no'"),
    ("when on a missing key", GOOD.replace('when: travel == "yes"', 'when: trip == "yes"  #!'),
     "refers to unknown name 'trip'"),
    ("when on a later question", GOOD.replace(
        "    prompt: {zh: 您出过本市吗？, en: Have you left the city?}",
        "    prompt: {zh: 您出过本市吗？, en: Have you left the city?}\n    when: answered(place)  #!"),
     "refers to 'place', which is asked later"),
    ("missing English prompt", GOOD.replace(
        "    prompt:\n      zh: 体温是多少度？\n      en: What is your temperature?",
        "    prompt:  #!\n      zh: 体温是多少度？"),
     "'prompt' has no 'en' translation"),
    ("missing English closing", GOOD.replace(
        "  low: {zh: 谢谢。, en: Thank you.}", "  low: {zh: 谢谢。}  #!"),
     "'low' has no 'en' translation"),
    ("unknown key in a question", GOOD.replace("    unit: celsius", "    unit: celsius\n    colour: red  #!"),
     "unknown key 'colour'"),
    ("number without max", GOOD.replace("    max: 43\n", "").replace("  - key: temperature", "  - key: temperature  #!"),
     "needs min and max"),
    ("min on a yes/no question", GOOD.replace("    type: yes_no\n", "    type: yes_no\n    min: 1  #!\n"),
     "unknown key 'min' in a yes_no question"),
    ("duplicate question key", GOOD.replace("  - key: place", "  - key: travel  #!"),
     "duplicate question key 'travel'"),
    ("syntax error in an expression", GOOD.replace("fever: temperature >= 37.3", "fever: temperature >=  #!"),
     "syntax error"),
    ("derived on a later derived", GOOD.replace("  fever: temperature >= 37.3",
                                                "  fever: hot  #!\n  hot: temperature >= 37.3"),
     "refers to 'hot', which is defined later"),
    ("forbidden expression", GOOD.replace("fever: temperature >= 37.3", "fever: temperature / 2  #!"),
     "not allowed"),
    ("risk rule on a missing name", GOOD.replace("when: fever and age > 65", "when: fevers  #!"),
     "unknown name 'fevers'"),
    ("unknown risk level", GOOD.replace("    - level: high", "    - level: severe  #!"),
     "unknown risk level 'severe'"),
    ("closing misses a reachable level", GOOD.replace(
        "  high: {zh: 网格员会联系您。, en: Your grid worker will call you.}\n", "").replace(
        "closing:", "closing:  #!"), "no message for risk level 'high'"),
    ("unknown language", GOOD.replace("languages: [zh, en]", "languages: [zh, fr]  #!"),
     "unknown language 'fr'"),
    ("emoji in a prompt", GOOD.replace("en: What is your temperature?", "en: What is your temperature? 🌡  #!"),
     "must read aloud well"),
    ("click in a prompt", GOOD.replace("en: Where did you go?}", "en: Click where you went}  #!"),
     "must read aloud well"),
    ("version not an integer", GOOD.replace("version: 3", "version: three  #!"), "'version' must be an integer"),
    ("duplicate YAML key", GOOD.replace("    unit: celsius", "    unit: celsius\n    unit: count  #!"),
     "duplicate key"),
    ("YAML syntax error", GOOD.replace("version: 3", "version: 3: 4  #!"),
     "YAML error"),
    ("unknown top-level key", GOOD + "extra: 1  #!\n", "unknown key 'extra'"),
    ("derived shadows a question", GOOD.replace("  fever: temperature >= 37.3", "  travel: temperature >= 37.3  #!"),
     "derived name 'travel' must be new"),
]


@pytest.mark.parametrize(("case", "text", "reason"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_definition_names_the_line(tmp_path: Path, case: str, text: str, reason: str) -> None:
    source, line = marked(text)
    path = write(tmp_path, source)
    with pytest.raises(DefinitionError) as info:
        load_questionnaire(path)
    err = info.value
    assert reason in err.reason, case
    assert (err.path, err.line) == (str(path), line), f"{case}: {err}"
    assert str(err) == f"{path}:{line}: {err.reason}"


def test_duplicate_ids_in_a_directory_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yml")
    write(tmp_path, GOOD, "b.yml")
    with pytest.raises(DefinitionError) as info:
        load_directory(tmp_path)
    assert info.value.line == 1 and "duplicate questionnaire id 'demo'" in info.value.reason
    assert info.value.path.endswith("b.yml")


def test_content_hash_ignores_formatting_but_not_content() -> None:
    base = parse_questionnaire(GOOD)
    reformatted = parse_questionnaire("# a comment\n" + GOOD.replace("min: 34", "min: 34.0"))
    changed = parse_questionnaire(GOOD.replace("体温是多少度？", "您的体温是多少度？"))
    assert base.content_hash == reformatted.content_hash
    assert base.content_hash != changed.content_hash
    assert len(base.content_hash) == 64


def test_to_dict_is_json_safe_and_complete() -> None:
    q = parse_questionnaire(GOOD)
    data = json.loads(json.dumps(q.to_dict(), ensure_ascii=False))
    assert data["id"] == "demo" and data["version"] == 3
    assert [x["key"] for x in data["questions"]] == ["temperature", "travel", "place"]
    assert data["questions"][2]["when"] == 'travel == "yes"'
    assert data["derived"] == [{"name": "fever", "expr": "temperature >= 37.3"}]
    assert data["risk"]["rules"] == [{"level": "high", "when": "fever and age > 65"}]


def test_shipped_questionnaires_load() -> None:
    found = load_directory(QUESTIONNAIRE_DIR)
    assert set(found) == {"daily_health", "traveller", "quarantine_followup", "work_resumption", "notice_ack"}
    assert all(q.languages[:2] == ("zh", "en") for q in found.values())
    assert "ko" in found["daily_health"].languages
    daily = found["daily_health"]
    assert daily.keys == ("temperature", "cough", "sore_throat", "breathing", "taste_smell",
                          "contact", "travel", "travel_place")
    assert daily.question("contact").type == "yes_no_unsure"
    temp = daily.question("temperature")
    assert (temp.min, temp.max, temp.unit) == (34.0, 43.0, "celsius")
