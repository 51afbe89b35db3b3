from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_date, env_float, env_int, env_list, env_str


def test_it_reads_booleans(monkeypatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", True) is False


def test_it_rejects_a_misspelt_boolean(monkeypatch) -> None:
    monkeypatch.setenv("FLAG", "flase")
    with pytest.raises(ImproperlyConfigured, match="FLAG='flase' is not a boolean"):
        env_bool("FLAG", False)


def test_it_rejects_a_non_integer_and_a_too_small_one(monkeypatch) -> None:
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 5, minimum=1)


def test_it_rejects_a_bad_float_and_an_unknown_choice(monkeypatch) -> None:
    monkeypatch.setenv("X", "1,5")
    with pytest.raises(ImproperlyConfigured, match="not a number"):
        env_float("X", 1.0)
    monkeypatch.setenv("BACKEND", "gpt")
    with pytest.raises(ImproperlyConfigured, match="must be one of"):
        env_choice("BACKEND", "llamacpp", {"llamacpp", "ollama"})


def test_it_requires_a_variable_without_default(monkeypatch) -> None:
    monkeypatch.delenv("MISSING_THING", raising=False)
    with pytest.raises(ImproperlyConfigured, match="MISSING_THING is required"):
        env_str("MISSING_THING")


def test_it_splits_lists_and_uses_defaults(monkeypatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example , b.example,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.delenv("HOSTS")
    assert env_list("HOSTS", ["x"]) == ["x"]


def test_it_rejects_a_malformed_date(monkeypatch) -> None:
    monkeypatch.setenv("START", "2024-13-01")
    with pytest.raises(ImproperlyConfigured, match="is not a date"):
        env_date("START", "2024-07-10")
    monkeypatch.setenv("START", "2024-07-10")
    assert env_date("START", "2000-01-01") == "2024-07-10"
