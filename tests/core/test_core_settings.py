from __future__ import annotations

from pathlib import Path

import pytest

from gridreach.errors import ConfigError, GridReachError
from gridreach.settings import Settings, mask_url


def test_defaults_from_empty_environment() -> None:
    s = Settings.from_env({})
    assert s.home == Path("var")
    assert s.database_url == f"sqlite:///{Path('var') / 'gridreach.db'}"
    assert s.dialogue_mode == "embedded"
    assert s.rasa_url is None
    assert s.action_server_port == 5055
    assert s.model_dir.name == "models"
    assert s.default_language == "zh"
    assert s.log_level == "INFO"


def test_values_from_environment(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "GRIDREACH_HOME": str(tmp_path),
            "GRIDREACH_DIALOGUE": "remote",
            "GRIDREACH_RASA_URL": "http://rasa:5005",
            "GRIDREACH_ACTION_PORT": "6055",
            "GRIDREACH_LOG_LEVEL": "debug",
            "GRIDREACH_LANGUAGE": "ko",
        }
    )
    assert s.home == tmp_path
    assert s.database_url == f"sqlite:///{tmp_path / 'gridreach.db'}"
    assert (s.dialogue_mode, s.rasa_url, s.action_server_port) == ("remote", "http://rasa:5005", 6055)
    assert (s.log_level, s.default_language) == ("DEBUG", "ko")


def test_gridreach_database_url_wins_over_database_url() -> None:
    env = {"DATABASE_URL": "postgresql://a@h/one", "GRIDREACH_DATABASE_URL": "postgresql://b@h/two"}
    assert Settings.from_env(env).database_url == "postgresql://b@h/two"
    assert Settings.from_env({"DATABASE_URL": "postgresql://a@h/one"}).database_url == "postgresql://a@h/one"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"GRIDREACH_ACTION_PORT": "fifty"}, "GRIDREACH_ACTION_PORT"),
        ({"GRIDREACH_ACTION_PORT": "70000"}, "GRIDREACH_ACTION_PORT"),
        ({"GRIDREACH_DIALOGUE": "telepathy"}, "GRIDREACH_DIALOGUE"),
        ({"GRIDREACH_DIALOGUE": "remote"}, "GRIDREACH_RASA_URL"),
        ({"GRIDREACH_DIALOGUE": "remote", "GRIDREACH_RASA_URL": "rasa:5005"}, "GRIDREACH_RASA_URL"),
        ({"GRIDREACH_LANGUAGE": "fr"}, "GRIDREACH_LANGUAGE"),
        ({"GRIDREACH_LOG_LEVEL": "LOUD"}, "GRIDREACH_LOG_LEVEL"),
        ({"DATABASE_URL": "mysql://u:pw@h/db"}, "DATABASE_URL"),
        ({"GRIDREACH_DATABASE_URL": "nonsense"}, "GRIDREACH_DATABASE_URL"),
    ],
)
def test_bad_values_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert isinstance(info.value, GridReachError)


def test_bad_value_in_constructor_names_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        Settings(action_server_port=0)
    assert info.value.key == "action_server_port"


def test_password_is_masked_in_repr_and_errors() -> None:
    s = Settings.from_env(
        {
            "GRIDREACH_DATABASE_URL": "postgresql://grid:s3cretPW@db.example:5432/gridreach",
            "GRIDREACH_DIALOGUE": "remote",
            "GRIDREACH_RASA_URL": "https://bot:t0kenPW@rasa.example/",
        }
    )
    text = repr(s) + str(s) + s.database_url_masked
    assert "s3cretPW" not in text and "t0kenPW" not in text
    assert "postgresql://grid:***@db.example:5432/gridreach" in text
    assert s.database_url.endswith("s3cretPW@db.example:5432/gridreach")  # the real value is kept
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"DATABASE_URL": "mysql://u:hunter2@h/db"})
    assert "hunter2" not in str(info.value)


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.log_level = "DEBUG"  # type: ignore[misc]
    assert s.replace(log_level="debug").log_level == "DEBUG"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:///var/x.db", "sqlite:///var/x.db"),
        (None, None),
    ],
)
def test_mask_url(url: str | None, masked: str | None) -> None:
    assert mask_url(url) == masked
