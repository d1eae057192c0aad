"""The schedule rule of ``colbert-retrieval train`` (#38): the longest schedule the held-out curve cannot tell
from its best step, kept only if it beats the untouched model."""

from __future__ import annotations

import random

from colbert_retrieval.training._selection import StopAtStep, choose_schedule


def _scores(mean: float, n: int = 200, spread: float = 0.3, seed: int = 0) -> dict[str, float]:
    rng = random.Random(seed)
    values = [min(1.0, max(0.0, rng.gauss(mean, spread))) for _ in range(n)]
    shift = mean - sum(values) / n
    return {f"q{i}": v + shift for i, v in enumerate(values)}


def test_a_noisy_maximum_early_gives_way_to_the_longest_schedule_within_one_standard_error() -> None:
    """The issue's curve: best at the first pass, later passes a little lower (by less than the noise)."""
    untouched = _scores(0.70)
    curve = [(22, _scores(0.80, seed=1)), (44, _scores(0.786, seed=2)), (66, _scores(0.784, seed=3))]
    selection = choose_schedule(untouched, curve)
    assert (selection.best_step, selection.chosen_step, selection.keep) == (22, 66, True)
    assert 0.01 < selection.standard_error < 0.03  # about 0.3 / sqrt(200)
    assert "within one standard error" in selection.reason and "training is kept" in selection.reason


def test_a_clear_decline_keeps_the_best_step() -> None:
    curve = [(10, _scores(0.80, seed=1)), (20, _scores(0.60, seed=2))]
    selection = choose_schedule(_scores(0.70), curve)
    assert selection.chosen_step == 10 and selection.keep


def test_nearly_identical_checkpoints_choose_the_later_one() -> None:
    """Two evaluations a few steps apart differ by less than any noise: the later one is chosen (a paired test
    would call a 0.0003 difference significant when almost every query scores the same)."""
    best = _scores(0.39, seed=4)
    later = {q: v - 0.0003 for q, v in best.items()}
    selection = choose_schedule(_scores(0.37), [(216, best), (218, later)])
    assert selection.chosen_step == 218


def test_the_guard_keeps_the_untouched_model_when_training_does_not_beat_it() -> None:
    untouched = _scores(0.70, seed=5)
    selection = choose_schedule(untouched, [(10, {q: v - 0.05 for q, v in untouched.items()})])
    assert not selection.keep and "untouched model is kept" in selection.reason
    assert not choose_schedule(untouched, []).keep


def test_stop_at_step_stops_the_trainer_there() -> None:
    class State:
        global_step = 4

    class Control:
        should_training_stop = False

    control = StopAtStep(5).on_step_end(None, State(), Control())
    assert not control.should_training_stop
    State.global_step = 5
    assert StopAtStep(5).on_step_end(None, State(), Control()).should_training_stop
