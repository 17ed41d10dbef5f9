"""Loss curves from metrics events, and their decimation."""

from __future__ import annotations

from typing import Any

from gateway.finetune.series import LossCurves, decimate, loss_curves
from trainer.jobs.tables import EventRow


def event(seq: int, data: dict[str, Any] | None, kind: str = "metrics") -> EventRow:
    return EventRow(seq=seq, id=f"e{seq}", job_id="j", created_at=0, level="info",
                    type=kind, message="m", data=data)  # fmt: skip


def test_evals_and_train_steps_go_to_their_own_curve() -> None:
    events = [
        event(1, None, kind="message"),
        event(2, {"step": 10, "train_loss": 2.0, "eval_loss": None}),
        event(3, {"step": 20, "train_loss": 1.5, "eval_loss": None}),
        event(4, {"step": 20, "train_loss": 1.5, "eval_loss": 1.7}),
        event(5, {"step": 30, "train_loss": None, "eval_loss": None}),
    ]
    assert loss_curves(events) == {
        "train_loss": [(10, 2.0), (20, 1.5)],
        "eval_loss": [(20, 1.7)],
    }


def test_decimation_keeps_ends_order_and_spikes() -> None:
    points = [(step, 1.0) for step in range(1, 10_001)]
    points[5000] = (5001, 9.0)  # a spike
    kept = decimate(points, 100)
    assert len(kept) == 100
    assert kept[0] == (1, 1.0)
    assert kept[-1] == (10_000, 1.0)
    assert (5001, 9.0) in kept
    assert [s for s, _ in kept] == sorted(s for s, _ in kept)
    assert decimate(points[:50], 100) == points[:50]
    assert decimate(points, 2) == [(1, 1.0), (10_000, 1.0)]


def test_curves_stay_in_step_order_when_a_step_comes_again() -> None:
    curves = LossCurves()
    curves.add([event(1, {"step": 1, "train_loss": 3.0}), event(2, {"step": 2, "train_loss": 2.0})])
    assert curves.curve("train_loss") == [(1, 3.0), (2, 2.0)]
    curves.add([event(3, {"step": 3, "train_loss": 1.0})])
    assert curves.curve("train_loss") == [(1, 3.0), (2, 2.0), (3, 1.0)]
    curves.add([event(4, {"step": 2, "train_loss": 2.5})])  # a resumed run repeats step 2
    assert curves.curve("train_loss") == [(1, 3.0), (2, 2.5), (3, 1.0)]
    assert curves.latest == {"step": 2, "train_loss": 2.5}
