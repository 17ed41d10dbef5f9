"""Label values stay bounded: names beyond the budget fold into ``other``, in every worker."""

from __future__ import annotations

from pathlib import Path

from gateway.observability.labels import LabelFold
from gateway.observability.metrics import OTHER


def test_names_beyond_the_limit_become_other() -> None:
    fold = LabelFold(limit=2)
    assert [fold(name) for name in ("a", "b", "c", "a", "d", "b")] == [
        "a",
        "b",
        OTHER,
        "a",
        OTHER,
        "b",
    ]


def test_workers_sharing_a_folder_fold_the_same_names(tmp_path: Path) -> None:
    first, second = LabelFold(2, tmp_path / "labels"), LabelFold(2, tmp_path / "labels")
    assert first("ft:m:a:1") == "ft:m:a:1"
    assert second("ft:m/b:2") == "ft:m/b:2"
    assert second("ft:m:c:3") == OTHER  # the first worker's name counts against the budget
    assert first("ft:m:c:3") == OTHER
    assert second("ft:m:a:1") == "ft:m:a:1"  # admitted by the other worker
    assert len(list((tmp_path / "labels").iterdir())) == 2


def test_zero_budget_folds_everything() -> None:
    assert LabelFold(0)("anything") == OTHER
