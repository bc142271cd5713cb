"""Command jobs: any executable per input as Ray tasks, retries, capture, a failing file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eo_ray import ingest

# Writes the size of its input to {output}; exits 3 for inputs named *bad*.
SCRIPT = (
    "import os, sys; src, out = sys.argv[1], sys.argv[2]; "
    "print('reading', os.path.basename(src)); "
    "sys.exit(3) if 'bad' in src else open(out, 'w').write(str(os.path.getsize(src)))"
)


def test_per_file_results_with_a_failing_file(ray_session, tmp_path: Path, l8_dir: Path) -> None:
    inputs = [l8_dir / "l8_B1.tif", l8_dir / "l8_B2.tif", tmp_path / "bad.tif"]
    inputs[2].write_bytes(b"x")
    results = ingest.run_command(
        [sys.executable, "-c", SCRIPT, "{input}", "{output}"],
        inputs,
        output_dir=tmp_path / "out",
        output_name="{stem}.size",
        retries=2,
    )
    table = results.to_pandas().set_index("input")
    assert len(table) == 3
    good = table.loc[str(inputs[0])]
    assert bool(good["ok"])
    assert good["returncode"] == 0
    assert good["attempts"] == 1
    assert good["stdout"].strip() == "reading l8_B1.tif"
    assert Path(good["output"]).read_text() == str(inputs[0].stat().st_size)
    bad = table.loc[str(inputs[2])]
    assert not bool(bad["ok"])
    assert bad["returncode"] == 3
    assert bad["attempts"] == 3  # retried twice
    assert bad["error"] == "exited with status 3"
    assert bad["output"] is None
    # only the successful outputs exist; no temporary file is left behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["l8_B1.size", "l8_B2.size"]


def test_copy_with_a_plain_shell_tool_and_stderr_capture(ray_session, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("hello")
    results = ingest.run_command(
        ["sh", "-c", "cp {input} {output} && echo done >&2"], [src], output_dir=tmp_path / "c"
    )
    (result,) = results.results
    assert result.ok
    assert result.stderr.strip() == "done"
    assert (tmp_path / "c" / "a.txt").read_text() == "hello"


def test_missing_executable_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ingest.InvalidOptionError, match="is not installed or not on PATH"):
        ingest.run_command(["gdal_translate_not_here", "{input}"], [tmp_path])
    with pytest.raises(ingest.InvalidOptionError, match="'output_dir' parameter"):
        ingest.run_command(["cp", "{input}", "{output}"], [tmp_path])
    with pytest.raises(ingest.InvalidOptionError, match="'inputs' parameter"):
        ingest.run_command(["true"], [])


def test_timeouts_are_reported_per_file(ray_session, tmp_path: Path) -> None:
    results = ingest.run_command(["sleep", "5"], [tmp_path / "x"], timeout=0.5, retries=0)
    (result,) = results.failed
    assert result.error == "timed out after 0.5 s"
