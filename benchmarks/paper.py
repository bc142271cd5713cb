"""Reproduce the paper's Tables 1-4 and Figures 13-15 with eo-ray, side by side.

The paper: "Scalable Artificial Intelligence for Earth Observation Data Using Hopsworks"
(Remote Sens. 2022, 14(8), 1889). Stages (each cached as JSON in --out, so a long run can
be resumed or run in parts; a stage reruns when its size changed or with --force):

  hpo      Tables 1-2, Figures 13-14, real: 3-layer CNN + one FC layer on Fashion-MNIST,
           random search over Maggy's example space, async + median rule vs synchronous,
           on one worker per core; writes hpo_curves.json (the curves the replays read)
  replays  Tables 1-2, Figure 13 at 4, 8, 16, 32 one-core workers: hpo_curves.json replayed
  table3   Titanic LOCO feature ablation (6 features, 2 hidden Dense, 10 epochs, 80/20)
  table4   MNIST LOCO layer ablation of the paper's CNN
  fig15    module ablation of a small Inception-style net on OpenSARShip chips, real at 1
           and 2 workers, the trial durations (ablation_trials.json) replayed at 1, 2, 4

    python benchmarks/paper.py                      # full: about an hour on 2 cores alone
    python benchmarks/paper.py --only hpo,replays   # some stages; the report uses them all
    python benchmarks/paper.py --quick --out /tmp/paper   # every stage reduced, < 5 min

Writes REPORT.md and fig13/fig14/fig15 PNGs in --out (default benchmarks/paper/). The full
mode's stages, estimated from --quick timings on 2 cores: hpo ~25 min, replays ~15, table3 ~1,
table4 ~10, fig15 ~8; run them apart with --only when the machine is free for that long.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from paper_figures import write_figures
from paper_report import write_report
from paper_stages import Size, ablation_scaling, hpo, hpo_replays, mnist, titanic

import eo_ray as eo

OUT = Path(__file__).resolve().parent / "paper"
STAGES = ("hpo", "replays", "table3", "table4", "fig15")
REPLAY_WORKERS = (4, 8, 16, 32)
SIZES = {
    "full": Size(
        hpo_trials=100, hpo_epochs=8, hpo_train=6000, hpo_test=1000,
        replay_workers=REPLAY_WORKERS, replay_trials=100, replay_time_scale=0.25,
        replay_rules=("paper", "eo-ray default"),
        titanic_repeats=5, titanic_epochs=10,
        mnist_train=12000, mnist_test=2000, mnist_epochs=2, mnist_repeats=5,
        mnist_filters=(32, 64), mnist_dense=128,
        ship_modules=4, ship_epochs=10, ship_repeats=2,
    ),
    "quick": Size(
        hpo_trials=12, hpo_epochs=3, hpo_train=1000, hpo_test=500,
        replay_workers=REPLAY_WORKERS, replay_trials=100, replay_time_scale=0.1,
        replay_rules=("paper",),
        titanic_repeats=2, titanic_epochs=10,
        mnist_train=2000, mnist_test=500, mnist_epochs=1, mnist_repeats=1,
        mnist_filters=(32, 64), mnist_dense=128,
        ship_modules=3, ship_epochs=2, ship_repeats=1,
    ),
    "tiny": Size(
        hpo_trials=6, hpo_epochs=2, hpo_train=256, hpo_test=128,
        replay_workers=(4,), replay_trials=8, replay_time_scale=0.05,
        replay_rules=("paper",),
        titanic_repeats=1, titanic_epochs=1,
        mnist_train=256, mnist_test=128, mnist_epochs=1, mnist_repeats=1,
        mnist_filters=(8, 16), mnist_dense=32,
        ship_modules=2, ship_epochs=1, ship_repeats=1, ship_workers=(1,),
        ship_replay_scale=0.1,
    ),
}  # fmt: skip


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line settings."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="every stage reduced: < 5 min alone")
    p.add_argument("--tiny", action="store_true", help="smallest sizes, for the test")
    p.add_argument("--out", type=Path, default=OUT, help="report folder (default %(default)s)")
    p.add_argument("--only", default=",".join(STAGES), help="comma-separated stages to run")
    p.add_argument("--force", action="store_true", help="rerun stages cached in --out")
    args = p.parse_args(argv)
    args.mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    args.stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.stages) - set(STAGES))
    if unknown:
        p.error(f"--only takes stages from {', '.join(STAGES)}; got {', '.join(unknown)}")
    return args


def machine() -> str:
    """One line describing this machine."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {pages / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _load(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def run_stage(name: str, size: Size, out: Path, command: str) -> None:
    """Run one stage and cache its result (and the recorded files) in ``out``."""
    start = time.perf_counter()
    if name == "hpo":
        result = hpo(size)
        (out / "hpo_curves.json").write_text(json.dumps(result.pop("curves")))
    elif name == "replays":
        result = hpo_replays(size, out / "hpo_curves.json")
    elif name == "table3":
        result = titanic(size)
    elif name == "table4":
        result = mnist(size)
    else:
        result = ablation_scaling(size)
        (out / "ablation_trials.json").write_text(
            json.dumps({"trial_durations_s": result.pop("trial_durations_s")})
        )
    record = {
        "stage": name,
        "size": size.key(name),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": machine(),
        "seconds": time.perf_counter() - start,
        "result": result,
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=1))
    print(f"paper: {name} done in {record['seconds']:.0f} s", flush=True)


def differences(mode: str, size: Size, workers: int) -> list[str]:
    """The protocol differences from the paper, for the report (``size``: what was run)."""
    full = mode == "full"
    lines = [
        f"- This command's mode: **{mode}**"
        + ("" if full else " (every stage reduced below the full mode, the reference run)")
        + "; the table above gives the mode and protocol each stage's result was run at, "
        "and the sizes below are theirs.",
        f"- HPO: {size.hpo_trials} trials (paper 100), {size.hpo_epochs} epochs of "
        f"{size.hpo_train:,} training images, accuracy on {size.hpo_test:,} test images "
        "(paper: full Fashion-MNIST; epochs not stated); PyTorch CNN (3 conv, global "
        "average, dropout, one linear layer) instead of Keras; real runs at "
        f"{workers} workers x 1 core (the paper: 4-32 Spark executors); "
        f"{', '.join(map(str, size.replay_workers))} workers are "
        f"replays of the recorded curves (N = {size.replay_trials} fixed, "
        f"x{size.replay_time_scale} time), not real trainings.",
        "- Median rule: eo-ray's reference set is the other trials (running or finished) "
        "that reported at the same step; Maggy's is the finished trials only. The paper rule "
        "row waits for four finished trials as the paper states; eo-ray's default does not.",
        f"- Table 3: repeats {size.titanic_repeats} (paper 5), epochs {size.titanic_epochs} "
        "(paper 10); the same 80/20 split in every trial, seeds vary; Titanic from "
        "`eo_ray.datasets` (891 passengers), missing ages set to the median.",
        f"- Table 4: {size.mnist_train:,} training / {size.mnist_test:,} test images (paper: "
        f"full MNIST), epochs {size.mnist_epochs}, repeats {size.mnist_repeats} (paper 5), "
        f"filters {size.mnist_filters}, dense {size.mnist_dense}.",
        f"- Figure 15: a small Inception-style net with {size.ship_modules} modules (paper: "
        "the first seven modules of ImageNet-pretrained Inception v3) on 276/69 OpenSARShip "
        f"VV chips, 3 classes, 32 px (paper: TenGeoPSAR, 10 classes), epochs {size.ship_epochs} "
        f"(paper 40), repeats {size.ship_repeats}; real at "
        f"{', '.join(map(str, size.ship_workers))} worker(s), 4 replayed (this machine has "
        f"{workers} cores).",
    ]
    if "eo-ray default" not in size.replay_rules:
        lines.append(
            "- Replays: the paper's rule only (the full mode replays eo-ray's default too)."
        )
    return lines


def protocol(stage: str, size: dict[str, Any]) -> str:
    """What of the paper's protocol a stage ran at ``size`` (a cached ``Size.key(stage)``)."""
    if stage == "hpo":
        full = size["hpo_trials"] == 100
        return (
            f"{'paper' if full else 'reduced'}: N = {size['hpo_trials']} (paper 100); "
            f"reduced data: {size['hpo_train']:,} images x {size['hpo_epochs']} epochs"
        )
    if stage == "replays":
        return (
            f"N = {size['replay_trials']} fixed at {size['replay_workers']} workers, replayed "
            f"at x{size['replay_time_scale']} time"
        )
    if stage == "table3":
        full = size["titanic_repeats"] == 5 and size["titanic_epochs"] == 10
        return (
            f"{'paper protocol' if full else 'reduced'}: {size['titanic_repeats']} repeats x "
            f"{size['titanic_epochs']} epochs"
        )
    if stage == "table4":
        return (
            f"reduced: {size['mnist_train']:,} images x {size['mnist_epochs']} epochs, "
            f"{size['mnist_repeats']} repeats (paper 5), filters {size['mnist_filters']}"
        )
    return (
        f"reduced: {size['ship_modules']} modules of a small Inception-style net, "
        f"{size['ship_epochs']} epochs (paper: 7 Inception v3 modules, 40 epochs)"
    )


def header(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    """Command, date and machine, and where each stage's result came from and at what size."""
    lines = [
        f"Command: `{args.command}` · written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · "
        f"machine: {machine()}",
        "",
        "| stage | mode | protocol | run at | took | command |",
        "|---|---|---|---|---|---|",
    ]
    for name in STAGES:
        rec = results.get(name)
        if rec is None:
            lines.append(f"| {name} | not run | – | – | – | – |")
            continue
        mode = next((m for m, s in SIZES.items() if s.key(name) == rec["size"]), "custom")
        lines.append(
            f"| {name} | {mode} | {protocol(name, rec['size'])} | {rec['date']} | "
            f"{rec['seconds']:.0f} s | `{rec['command'].strip()}` |"
        )
    return lines


def as_run(size: Size, records: dict[str, Any]) -> Size:
    """``size`` with each cached stage's own sizes: what the report's results were run at."""
    fields = size.to_dict()
    for rec in records.values():
        if rec is not None:
            fields.update(rec["size"])
    return Size(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def main(argv: list[str] | None = None) -> None:
    """Run the stages asked for (unless cached), then write the report and the figures."""
    args = parse(argv)
    args.command = " ".join(
        ["python benchmarks/paper.py", shlex.join(sys.argv[1:] if argv is None else argv)]
    ).strip()
    size = SIZES[args.mode]
    args.out.mkdir(parents=True, exist_ok=True)
    todo = [s for s in args.stages if args.force or _cached(args.out, s, size) is None]
    if todo:
        eo.init(home=tempfile.mkdtemp(prefix="eo-ray-paper-"))
        for name in todo:
            run_stage(name, size, args.out, args.command)
        workers = int(eo.info().resources.get("CPU", 1))
        eo.shutdown()
    else:
        workers = os.cpu_count() or 1
    records = {s: _load(args.out / f"{s}.json") for s in STAGES}
    results = {
        "hpo": _result(records, "hpo"),
        "replays": _result(records, "replays"),
        "table3": _result(records, "table3"),
        "table4": _result(records, "table4"),
        "fig15": _result(records, "fig15"),
    }
    if results["hpo"]:
        results["hpo"]["curves"] = _load(args.out / "hpo_curves.json")
    report = write_report(
        args.out,
        header(args, records),
        differences(args.mode, as_run(size, records), workers),
        results,
    )
    figures = write_figures(args.out, results)
    print(f"paper: wrote {report} and {len(figures)} figure(s)")


def _cached(out: Path, stage: str, size: Size) -> dict | None:
    rec = _load(out / f"{stage}.json")
    return rec if rec is not None and rec["size"] == size.key(stage) else None


def _result(records: dict[str, Any], stage: str) -> dict | None:
    rec = records.get(stage)
    return rec["result"] if rec else None


if __name__ == "__main__":
    main()
