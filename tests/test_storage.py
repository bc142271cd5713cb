from __future__ import annotations

import pytest

from eo_ray.errors import ConfigError, InvalidNameError
from eo_ray.storage import MAX_NAME_LENGTH, Workspace, normalise_root, validate_name


@pytest.mark.parametrize("name", ["ships", "s1_backscatter", "lc08-ndvi.v2", "A" * MAX_NAME_LENGTH])
def test_valid_names_pass(name):
    assert validate_name(name, "feature group") == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("..", "'..'"),
        ("a/../b", "'..'"),
        ("a/b", "letters"),
        ("a\\b", "letters"),
        ("/abs", "letters"),
        ("_hidden", "start with"),
        ("x" * (MAX_NAME_LENGTH + 1), "characters"),
        ("with space", "letters"),
        (42, "letters"),
    ],
)
def test_invalid_names_raise_one_clear_error(name, why):
    with pytest.raises(InvalidNameError) as err:
        validate_name(name, "model")
    message = str(err.value)
    assert message.startswith("Invalid model name")
    assert why in message
    assert "\n" not in message


def test_roots_are_normalised(tmp_path):
    assert normalise_root(str(tmp_path / "a" / ".." / "b")) == str(tmp_path / "b")
    assert normalise_root(f"file://{tmp_path}") == str(tmp_path)
    assert normalise_root("s3://bucket/some/prefix/") == "s3://bucket/some/prefix"
    assert normalise_root("s3://bucket") == "s3://bucket"


@pytest.mark.parametrize("root", ["", "s3://", "gs://bucket/x", "http://example.org/x"])
def test_bad_roots_raise_config_error(root):
    with pytest.raises(ConfigError):
        normalise_root(root)


def test_local_workspace_roundtrip(tmp_path):
    ws = Workspace(str(tmp_path / "home"))
    assert ws.is_local
    assert ws.storage_options == {}
    uri = ws.uri("experiments", "exp1", "record.json")
    assert uri == f"{tmp_path}/home/experiments/exp1/record.json"
    ws.write_json(uri, {"a": 1, "b": [1, 2]})
    assert ws.read_json(uri) == {"a": 1, "b": [1, 2]}
    assert ws.exists(uri)
    assert ws.list_dir(ws.uri("experiments")) == ["exp1"]
    assert list((tmp_path / "home" / "experiments" / "exp1").iterdir()) == [
        tmp_path / "home" / "experiments" / "exp1" / "record.json"
    ]  # no temporary files left behind by the atomic write
    ws.delete(ws.uri("experiments", "exp1"))
    assert not ws.exists(uri)
    assert ws.list_dir(ws.uri("nothing-here")) == []


def test_join_appends_to_a_uri_under_the_root(tmp_path):
    ws = Workspace(str(tmp_path))
    base = ws.uri("pipelines", "p", "runs", "r1")
    assert ws.join(base, "run.json") == f"{tmp_path}/pipelines/p/runs/r1/run.json"
    with pytest.raises(InvalidNameError, match="not under the workspace"):
        ws.join("/elsewhere/x", "run.json")


def test_uri_refuses_parent_references(tmp_path):
    with pytest.raises(InvalidNameError):
        Workspace(str(tmp_path)).uri("models", "../escape")


def test_default_root_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EO_RAY_HOME", str(tmp_path / "env-home"))
    assert Workspace().root == str(tmp_path / "env-home")


def test_s3_workspace_on_a_real_s3_server(s3_bucket):
    ws = Workspace(f"s3://{s3_bucket}/team/ws")
    assert not ws.is_local
    assert ws.storage_options["AWS_ALLOW_HTTP"] == "true"
    uri = ws.uri("models", "ship-cnn", "1", "meta.json")
    assert uri == f"s3://{s3_bucket}/team/ws/models/ship-cnn/1/meta.json"
    ws.write_json(uri, {"accuracy": 0.9})
    assert ws.exists(uri)
    assert ws.read_json(uri) == {"accuracy": 0.9}
    assert ws.list_dir(ws.uri("models", "ship-cnn")) == ["1"]
    ws.delete(uri)
    assert not ws.exists(uri)
