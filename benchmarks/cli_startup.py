"""CLI start-up: ``eo-ray --help`` and ``eo-ray <stage> --help`` against ``python -c pass``.

Each command runs ``--runs`` times in a fresh process; reported per command: the median
wall-clock, and the same less the floor (the median of ``python -c pass``, the interpreter's
own start-up). Goal: every help within 0.5 s.

    python benchmarks/cli_startup.py              # 7 runs per command, ~15 s
    python benchmarks/cli_startup.py --runs 21
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_S = 0.5


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="runs per command (median)")
    return p.parse_args()


def eo_ray_command() -> list[str]:
    """The installed ``eo-ray`` script next to this interpreter, else ``python -m eo_ray.cli``."""
    script = Path(sys.executable).with_name("eo-ray")
    return [str(script)] if script.exists() else [sys.executable, "-m", "eo_ray.cli"]


def stage_commands() -> list[str]:
    """The stage groups of ``eo-ray`` (read from the CLI itself)."""
    import typer.main

    from eo_ray.cli import app

    group = typer.main.get_command(app)
    return sorted(name for name, cmd in group.commands.items() if hasattr(cmd, "commands"))


def median_seconds(argv: list[str], runs: int) -> float:
    """Median wall-clock of ``runs`` fresh runs of ``argv`` (output discarded)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    args = parse()
    cli = eo_ray_command()
    floor = median_seconds([sys.executable, "-c", "pass"], args.runs)
    rows = [("eo-ray --help", median_seconds([*cli, "--help"], args.runs))]
    for stage in stage_commands():
        rows.append((f"eo-ray {stage} --help", median_seconds([*cli, stage, "--help"], args.runs)))
    print(f"python {platform.python_version()} on {platform.node()}, {args.runs} runs each")
    print(f"{'command':<32} {'median s':>9} {'- floor s':>10}  goal <= {GOAL_S} s")
    print(f"{'python -c pass (floor)':<32} {floor:>9.3f} {'':>10}")
    for name, seconds in rows:
        verdict = "ok" if seconds <= GOAL_S else "SLOW"
        print(f"{name:<32} {seconds:>9.3f} {seconds - floor:>10.3f}  {verdict}")
    worst = max(seconds for _, seconds in rows)
    print(f"slowest: {worst:.3f} s ({'meets' if worst <= GOAL_S else 'misses'} the goal)")


if __name__ == "__main__":
    main()
