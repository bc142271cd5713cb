"""The base class of early-stopping rules and their typed decision."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum

from eo_ray.hpo._trial import History, TrialView


class Action(Enum):
    """What a stopping rule decides for a running trial."""

    CONTINUE = "continue"
    STOP = "stop"


@dataclass(frozen=True)
class Decision:
    """A stopping rule's decision with the reason (shown in the per-trial table)."""

    action: Action
    reason: str = ""

    @property
    def stop(self) -> bool:
        """Whether the trial is to stop."""
        return self.action is Action.STOP


CONTINUE = Decision(Action.CONTINUE)


class StoppingRule(ABC):
    """Decides, on each heartbeat of a running trial, whether it should stop early.

    ``trial`` is the running trial with every report so far; ``history`` is the read-only
    history of the whole search (``history.mode`` is ``"max"`` or ``"min"``). A rule never
    talks to workers: the runtime delivers a stop at the trial's next report.

    ``stops_trials`` says whether the rule can ever stop a trial; a rule that cannot lets
    workers send reports without waiting for an answer.
    """

    stops_trials: bool = True

    @abstractmethod
    def decide(self, trial: TrialView, history: History) -> Decision:
        """Continue or stop ``trial``, given the search so far."""

    def observe(self, trial: TrialView) -> None:  # noqa: B027 - optional hook
        """Called with a trial whenever the optimizer hears more of it (a heartbeat that is
        not checked, its end, a journal replayed on resume); rules that keep an index of the
        search's curves update it here, so that :meth:`decide` need not scan the history."""

    def forget(self, trial_id: int) -> None:  # noqa: B027 - optional hook
        """Called when a trial's reports no longer count (it is re-run after its worker died)."""


class NoStopping(StoppingRule):
    """Never stops a trial (``early_stopping="none"``)."""

    stops_trials = False

    def decide(self, trial: TrialView, history: History) -> Decision:
        return CONTINUE
