"""How long to train: the schedule chosen on a held-out curve, and the callback that stops a retrain there.

The rule of ``selection="retrain"`` (the default of ``colbert-retrieval train``):

1. Held-out queries are scored (exact MaxSim, nDCG@10 per query) before training and after every pass.
2. Among the evaluated steps, the **longest** schedule whose held-out nDCG@10 is within one standard error of
   the best step's (the standard error of that mean over the held-out queries: Breiman's one-standard-error
   rule, here preferring the longer schedule) is chosen: a curve over a few hundred queries cannot tell those
   steps apart, and a longer schedule has seen more of the training data (picking the noisy maximum kept step
   22 of 68 and lost 0.010 nDCG@10 on a corpus's test split against training to the end).
3. The training is kept only if the chosen step beats the untouched model on the held-out queries (the
   regression guard); else the untouched model is kept.

The caller then trains again on every training query, held-out ones included, for the chosen share of the
schedule (:class:`StopAtStep` ends it there with the learning-rate schedule of the whole run, so the retrain
follows the curve the choice was made on).

Examples:
    >>> untouched = {"q1": 0.2, "q2": 0.4, "q3": 0.3}
    >>> curve = [(10, {"q1": 0.5, "q2": 0.5, "q3": 0.4}), (20, {"q1": 0.55, "q2": 0.4, "q3": 0.4})]
    >>> selection = choose_schedule(untouched, curve)
    >>> selection.chosen_step, selection.keep
    (20, True)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from transformers import TrainerCallback

__all__ = ["RULE", "Selection", "StopAtStep", "choose_schedule"]

#: The rule in words (what the report and the model card say was applied).
RULE = (
    "longest evaluated schedule whose held-out nDCG@10 is within one standard error of the best evaluated "
    "step's; kept only if it beats the untouched model on the held-out queries"
)


@dataclass(frozen=True)
class Selection:
    """What the held-out curve decided, and why.

    Attributes:
        rule: the rule applied (:data:`RULE`).
        points: ``(step, mean held-out nDCG@10)``; step 0 is the untouched model.
        queries: held-out queries scored at each point.
        best_step: the step with the highest mean.
        chosen_step: the longest step within one standard error of the best.
        standard_error: the standard error of the best step's mean held-out nDCG@10.
        gain: mean held-out nDCG@10 of the chosen step minus the untouched model's.
        keep: whether training is kept (``gain > 0``).
        reason: one sentence for the summary.
    """

    rule: str
    points: list[tuple[int, float]]
    queries: int
    best_step: int
    chosen_step: int
    standard_error: float
    gain: float
    keep: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The selection as plain JSON-able values (``training_report.json``'s ``selection``)."""
        return asdict(self)


def _gain(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    """Mean of ``first - second`` over the queries both scored (0 when they share none)."""
    shared = set(first) & set(second)
    return sum(first[q] - second[q] for q in shared) / len(shared) if shared else 0.0


def _standard_error(values: Mapping[str, float]) -> float:
    """Standard error of the mean of per-query scores (infinite with fewer than two queries)."""
    if len(values) < 2:
        return math.inf
    return statistics.stdev(values.values()) / math.sqrt(len(values))


def _mean(values: Mapping[str, float]) -> float:
    return sum(values.values()) / len(values) if values else 0.0


def choose_schedule(untouched: Mapping[str, float], curve: Sequence[tuple[int, Mapping[str, float]]]) -> Selection:
    """Apply :data:`RULE` to per-query held-out nDCG@10 before training and at each evaluated step.

    Args:
        untouched: query id -> nDCG@10 of the untouched model.
        curve: ``(step, query id -> nDCG@10)`` for each evaluation, in any order.

    Returns:
        The decision; with no evaluated step it keeps the untouched model.
    """
    points = [(0, round(_mean(untouched), 4))]
    ordered = sorted(curve, key=lambda item: item[0])
    points += [(step, round(_mean(scores), 4)) for step, scores in ordered]
    if not ordered:
        return Selection(RULE, points, len(untouched), 0, 0, 0.0, 0.0, False, "no evaluated step")
    best_step, best = max(ordered, key=lambda item: (_mean(item[1]), item[0]))
    error = _standard_error(best)
    chosen_step, chosen = next(
        (step, scores)
        for step, scores in reversed(ordered)
        if step >= best_step and _mean(scores) >= _mean(best) - error
    )
    gain = _gain(chosen, untouched)
    keep = gain > 0
    if chosen_step != best_step:
        why = (
            f"step {chosen_step} is within one standard error ({error:.4f}) of the best step {best_step} on "
            f"{len(chosen)} held-out queries: the longer schedule is chosen"
        )
    else:
        why = (
            f"step {chosen_step} is the best evaluated step and no later step is within one standard error "
            f"({error:.4f}) of it"
        )
    why += (
        f"; it beats the untouched model by {gain:+.4f} nDCG@10, so training is kept"
        if keep
        else f"; it does not beat the untouched model ({gain:+.4f} nDCG@10), so the untouched model is kept"
    )
    return Selection(RULE, points, len(untouched), best_step, chosen_step, round(error, 4), round(gain, 4), keep, why)


class StopAtStep(TrainerCallback):
    """Ends training after ``step`` optimizer steps, leaving the learning-rate schedule of the whole run.

    Args:
        step: the last step to train.
    """

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        """Ask the trainer to stop once ``step`` is reached."""
        if state.global_step >= self.step:
            control.should_training_stop = True
        return control
