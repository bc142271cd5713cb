"""Command jobs: run any executable once per input file as Ray tasks (tools in any language).

``run_command(["gdal_translate", "-of", "COG", "{input}", "{output}"], inputs=[...])``
expands the placeholders per input, runs the command with retries, captures stdout and
stderr, and returns one result row per input. A failing input never stops the others;
an output is moved into place only when its command succeeded, so no half-written file
is left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eo_ray.ingest.errors import InvalidOptionError, invalid

if TYPE_CHECKING:
    import pandas as pd

PLACEHOLDERS = ("{input}", "{output}", "{stem}", "{name}", "{output_dir}")
MAX_CAPTURE = 64 * 1024


@dataclass(frozen=True)
class CommandResult:
    """The outcome of the command for one input."""

    input: str
    output: str | None
    ok: bool
    returncode: int | None
    attempts: int
    seconds: float
    stdout: str
    stderr: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class CommandResults:
    """The per-input results of a command job."""

    command: list[str]
    results: list[CommandResult]

    @property
    def succeeded(self) -> list[CommandResult]:
        """Inputs whose command exited 0."""
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[CommandResult]:
        """Inputs whose command failed after every attempt."""
        return [r for r in self.results if not r.ok]

    def __len__(self) -> int:
        return len(self.results)

    def to_pandas(self) -> pd.DataFrame:
        """The result table: one row per input."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.results])


def _tail(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data[-MAX_CAPTURE:]


def _expand(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    out = []
    for arg in template:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out


def run_one(
    command: list[str],
    source: str,
    output: str | None,
    retries: int,
    timeout: float | None,
    env: dict[str, str] | None,
    cwd: str | None,
) -> CommandResult:
    """Run ``command`` for one input (a Ray task): retries, capture, atomic output."""
    path = Path(source)
    tmp = None
    if output is not None:
        out = Path(output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.part{out.suffix}")
    values = {
        "input": source,
        "output": str(tmp) if tmp else "",
        "stem": path.stem,
        "name": path.name,
        "output_dir": str(Path(output).parent) if output else "",
    }
    argv = _expand(command, values)
    started = time.perf_counter()
    stdout = stderr = ""
    code: int | None = None
    error: str | None = None
    attempts = 0
    full_env = {**os.environ, **(env or {})}
    for attempts in range(1, retries + 2):  # noqa: B007 - attempts is reported
        try:
            proc = subprocess.run(
                argv, capture_output=True, timeout=timeout, env=full_env, cwd=cwd, check=False
            )
            stdout, stderr, code = _tail(proc.stdout), _tail(proc.stderr), proc.returncode
            error = None if code == 0 else f"exited with status {code}"
        except FileNotFoundError:
            error = f"executable {argv[0]!r} was not found on PATH"
            break  # retrying cannot help
        except subprocess.TimeoutExpired as exc:
            stdout, stderr = _tail(exc.stdout), _tail(exc.stderr)
            error = f"timed out after {timeout} s"
        if error is None and tmp is not None and not tmp.exists():
            error = "exited 0 but wrote no {output} file"
        if error is None:
            break
        if tmp is not None and tmp.exists():
            tmp.unlink()
    if error is None and tmp is not None:
        os.replace(tmp, output)
    elif tmp is not None and tmp.exists():
        tmp.unlink()
    return CommandResult(
        input=source,
        output=output if error is None else None,
        ok=error is None,
        returncode=code,
        attempts=attempts,
        seconds=round(time.perf_counter() - started, 4),
        stdout=stdout,
        stderr=stderr,
        error=error,
    )


def run_command(
    command: Sequence[str],
    inputs: Sequence[str | Path],
    *,
    output_dir: str | Path | None = None,
    output_name: str = "{stem}{suffix}",
    retries: int = 1,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    num_cpus: float = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> CommandResults:
    """Run ``command`` once per input as Ray tasks and return the per-input results.

    Placeholders in the arguments: ``{input}``, ``{output}`` (a temporary path in
    ``output_dir``, moved to ``output_dir/output_name`` on success), ``{stem}``,
    ``{name}`` and ``{output_dir}``. ``output_name`` may use ``{stem}``, ``{name}`` and
    ``{suffix}`` (the input's suffix). A non-zero exit is retried ``retries`` times.
    """
    import ray

    from eo_ray.ingest.catalog import _ensure_ray

    argv = [str(a) for a in command] if not isinstance(command, str) else None
    if not argv:
        raise invalid("command", "run_command", "a non-empty list of arguments", command)
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        raise InvalidOptionError(
            f"Executable {argv[0]!r} is not installed or not on PATH; install it or give its path."
        )
    uses_output = any("{output}" in a for a in argv)
    if uses_output and output_dir is None:
        raise invalid("output_dir", "run_command", "a folder when {output} is used", output_dir)
    if not isinstance(retries, int) or retries < 0:
        raise invalid("retries", "run_command", "an int >= 0", retries)
    sources = [str(i) for i in inputs]
    if not sources:
        raise invalid("inputs", "run_command", "one or more input files", inputs)
    _ensure_ray()
    task = ray.remote(run_one).options(num_cpus=num_cpus, max_retries=2)
    refs = []
    for source in sources:
        output = None
        if uses_output:
            path = Path(source)
            name = output_name.format(stem=path.stem, name=path.name, suffix=path.suffix)
            output = str(Path(output_dir) / name)
        refs.append(
            task.remote(
                argv,
                source,
                output,
                retries,
                timeout,
                dict(env or {}),
                str(cwd) if cwd else None,
            )
        )
    index = {ref: n for n, ref in enumerate(refs)}
    results: list[CommandResult | None] = [None] * len(refs)
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            n = index[ref]
            try:
                results[n] = ray.get(ref)
            except ray.exceptions.RayError as exc:
                results[n] = CommandResult(sources[n], None, False, None, 0, 0.0, "", "", str(exc))
            if on_progress:
                on_progress(sum(r is not None for r in results), len(results))
    return CommandResults(argv, [r for r in results if r is not None])
