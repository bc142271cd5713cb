"""Chaos: the reference pipeline's stages at a tiny size while Ray worker processes are killed.

A trial worker is SIGKILLed mid-search, a training worker mid-training and a Serve replica
mid-prediction; each run finishes and nothing is lost: every trial has a final state, every
training row is seen in the last epoch, and every request is answered and logged (counted).
The processes are found through Ray's state API, as an operator would find them.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import eo_ray as eo
from eo_ray.hpo import TrialList, TrialStatus

FEATURES = ["Pclass", "SibSp", "Parch", "Fare"]


@functools.cache
def _state_api() -> bool:
    """Whether Ray's state API answers: it goes through the dashboard, which ``eo.init``
    does not start."""
    from ray.util.state import list_actors

    try:
        list_actors(limit=1, timeout=2)
    except Exception:  # ServerUnavailable, or a dashboard still starting
        return False
    return True


def _alive_pids(class_prefix: str) -> list[int]:
    """PIDs of the live actors whose class name starts with ``class_prefix``: from Ray's state
    API (``ray.util.state.list_actors``), or, without a dashboard, from the GCS actor table
    the state API itself reads."""
    import ray
    from ray.util.state import list_actors

    if _state_api():
        alive = list_actors(filters=[("state", "=", "ALIVE")], limit=10_000, timeout=5)
        actors = [(a.class_name, a.pid) for a in alive]
    else:
        table = ray._private.state.actors().values()
        actors = [(a["ActorClassName"], a["Pid"]) for a in table if a["State"] == "ALIVE"]
    return [pid for name, pid in actors if name.startswith(class_prefix) and pid]


class Killer:
    """Kills one actor process of ``class_prefix`` once ``ready()`` is true (in a thread)."""

    def __init__(self, class_prefix: str, ready: Callable[[], bool], timeout_s: float = 60) -> None:
        self.class_prefix, self.ready, self.timeout_s = class_prefix, ready, timeout_s
        self.killed: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not self._done.is_set() and time.monotonic() < deadline:
            if self.ready():
                pids = _alive_pids(self.class_prefix)
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    self.killed = pids[0]
                    return
            time.sleep(0.05)


# -- search ------------------------------------------------------------------------------------
def slow_trial(hparams, reporter):
    """A trial of a few reports; it marks its start so the killer strikes mid-trial (the
    search's worker actors are of class ``_Worker``)."""
    Path(hparams["marks"], f"trial-{hparams['i']}-{os.getpid()}").touch()
    for step in range(4):
        time.sleep(0.15)
        reporter.report(hparams["i"] / 10 + step / 100, step=step)
    return hparams["i"] / 10


def test_a_worker_killed_mid_search_loses_no_trial(ray_session, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    trials = [{"i": i, "marks": str(marks)} for i in range(6)]
    with Killer("_Worker", lambda: len(list(marks.iterdir())) >= 2) as killer:
        result = eo.hpo.search(
            slow_trial,
            None,
            len(trials),
            optimizer=TrialList(trials),
            early_stopping=None,
            workers=2,
            progress=False,
            name="chaos-search",
        )
    assert killer.killed, "no trial worker was running to be killed"
    assert len(result.trials) == len(trials)
    assert all(t.status is TrialStatus.COMPLETED for t in result.trials)
    assert sorted(t.value for t in result.trials) == [i / 10 for i in range(6)]
    assert result.worker_replacements >= 1


# -- training ----------------------------------------------------------------------------------
def counting_loop(config, data, reporter):
    """A tiny torch model; marks each epoch's start (by process), and counts the rows its
    worker saw in a file per epoch and rank."""
    import torch

    model = torch.nn.Linear(len(FEATURES), 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model, opt = reporter.prepare(model, opt)
    for epoch in range(reporter.restore(), config["epochs"]):
        Path(config["marks"], f"started-{epoch}-{reporter.rank}-{os.getpid()}").touch()
        rows = 0
        for batch in data.iter_batches(32):
            x = torch.tensor(np.array(batch["x"], dtype=np.float32))
            y = torch.tensor(np.array(batch["y"]), dtype=torch.long)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            rows += len(y)
            time.sleep(0.05)  # about 0.7 s an epoch: the kill lands mid-epoch
        Path(config["marks"], f"epoch{epoch}-rank{reporter.rank}").write_text(str(rows))
        reporter.report(float(rows), step=epoch, rows=rows)


def test_a_worker_killed_mid_training_loses_no_row(ray_session, tmp_path):
    df = eo.datasets.load_titanic()
    x, y = df[FEATURES].to_numpy(np.float32), df["Survived"].to_numpy()
    marks = tmp_path / "marks"
    marks.mkdir()
    epochs = 3

    def in_epoch_1() -> bool:
        return any(marks.glob("started-1-1-*"))

    with Killer("RayTrainWorker", in_epoch_1) as killer:
        result = eo.train.fit(
            counting_loop,
            num_workers=2,
            max_failures=1,
            config={"epochs": epochs, "marks": str(marks)},
            data=(x, y),
            name="chaos-train",
        )
    assert killer.killed, "no training worker was running to be killed"
    assert {rec["step"] for rec in result.history} == set(range(epochs))
    # The worker group was replaced; it went on from its last registered checkpoint, or from
    # the start when the kill came before Ray Train's controller registered epoch 0's.
    first_epoch: dict[str, int] = {}  # process -> the first epoch it ran
    for mark in marks.glob("started-*"):
        _, epoch, _, pid = mark.name.split("-")
        first_epoch[pid] = min(int(epoch), first_epoch.get(pid, epochs))
    assert len(first_epoch) == 4
    restarted_at = max(first_epoch.values())  # the replacement group's first epoch
    resumed = [rec for rec in result.history if "resumed_from_step" in rec]
    if restarted_at > 0:  # it resumed from a checkpoint: the history says from which
        assert resumed
        assert resumed[0]["resumed_from_step"] == restarted_at - 1
        assert resumed[0]["step"] == restarted_at
    else:
        assert not resumed
    last = [int((marks / f"epoch{epochs - 1}-rank{r}").read_text()) for r in (0, 1)]
    # Ray Train splits the data into equal shards for lock-step all-reduce: the
    # len(x) % num_workers rows left over are not trained on in any epoch, killed or not.
    assert sum(last) == len(x) - len(x) % 2


# -- serving -----------------------------------------------------------------------------------
@pytest.fixture
def titanic_model(ray_session):
    from sklearn.linear_model import LogisticRegression

    df = eo.datasets.load_titanic()
    model = LogisticRegression(max_iter=500).fit(df[FEATURES], df["Survived"])
    return eo.models.register("chaos-lr", model, "sklearn"), df[FEATURES]


def test_a_replica_killed_mid_prediction_loses_no_request(titanic_model):
    from eo_ray.serving._deploy import ensure_serve
    from tests.conftest import free_port

    version, frame = titanic_model
    ensure_serve("127.0.0.1", free_port())
    deployment = eo.serving.deploy(version.name, name="chaos", min_replicas=2, max_replicas=2)
    rows = frame.head(8).to_dict("records")
    count = 200
    answered: list[int] = []

    def ask(n: int) -> int:
        out = deployment.predict(rows)
        answered.append(n)
        return len(out["predictions"])

    try:
        ready = lambda: len(answered) >= count // 4  # noqa: E731
        with Killer("ServeReplica:chaos", ready) as killer, ThreadPoolExecutor(4) as pool:
            predictions = list(pool.map(ask, range(count)))
        assert killer.killed, "no replica was running to be killed"
        assert predictions == [len(rows)] * count
        logged = eo.monitoring.requests("chaos")
        assert len(logged[logged["status"] == 200]) >= count
    finally:
        eo.serving.undeploy("chaos")
