from __future__ import annotations

import pytest

from eo_ray.config import DEFAULT_HOME, get_settings
from eo_ray.errors import ConfigError


def test_defaults(monkeypatch):
    for var in ("EO_RAY_HOME", "EO_RAY_ONLINE", "EO_RAY_DOWNLOAD"):
        monkeypatch.delenv(var, raising=False)
    settings = get_settings()
    assert settings.home == DEFAULT_HOME
    assert settings.online == "sqlite"
    assert settings.allow_download is True


def test_environment_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("EO_RAY_HOME", "s3://bucket/prefix")
    monkeypatch.setenv("EO_RAY_ONLINE", "redis://127.0.0.1:6379")
    monkeypatch.setenv("EO_RAY_DOWNLOAD", "0")
    monkeypatch.setenv("EO_RAY_CACHE", str(tmp_path))
    settings = get_settings()
    assert settings.home == "s3://bucket/prefix"
    assert settings.online == "redis://127.0.0.1:6379"
    assert settings.allow_download is False
    assert settings.cache_dir == tmp_path


@pytest.mark.parametrize(
    ("var", "value"), [("EO_RAY_DOWNLOAD", "maybe"), ("EO_RAY_ONLINE", "mysql://x")]
)
def test_bad_values_are_config_errors(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=var):
        get_settings()
