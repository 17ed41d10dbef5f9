"""What ``"auto"`` hyperparameters resolve to, from the training set's size and the base
model's parameter count. The rule, with its sources:

- ``n_epochs`` (OpenAI's rule, from its cookbook "Data preparation and analysis for chat model
  fine-tuning"): aim at 3 passes, but at least 100 and at most 25,000 examples seen in all:
  ``min(25, ceil(100 / n))`` for small sets, ``max(1, 25000 // n)`` for large ones, else 3.
  Small datasets get more epochs than large ones.
- ``batch_size`` (OpenAI's fine-tuning guide: "~0.2% of the number of examples in the
  training set"): the power of two at or above 0.2% of the examples, kept within 8..64. 8 is
  loragate's long-standing default; 64 because the recipe has no gradient accumulation, so a
  whole batch must fit in memory at once. Where the trainer has a memory budget (a GPU),
  the gateway also caps it at the largest power of two whose estimate fits
  (``max_batch_size`` in the record), so a size learnt only once the file is checked can
  never run the job out of memory.
- ``learning_rate`` (QLoRA, Dettmers et al. 2023, Table 9: 2e-4 for 7B and 13B models, 1e-4
  for 33B and 65B): a power law through 2e-4 at 7B that halves by about 65B, so
  ``2e-4 * (7e9 / N) ** 0.3``, kept within 5e-5..1e-3. 1e-3 is what loragate's 1M-parameter
  default model was measured to learn at (NOTES: "the default learning rate suits the tiny
  default model; real models want less"). A model whose size is unknown gets the 7B rate.
- ``learning_rate_multiplier``: 1.0 (the rate above is already the model's own).

Anchors (tested): the tiny default model on 1,000 examples -> 3 epochs, batch 8, 1e-3;
a 7B model on 1,000 examples -> a learning rate in [1e-4, 2e-4].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

TARGET_EPOCHS = 3
MIN_EXAMPLES_SEEN = 100
MAX_EXAMPLES_SEEN = 25_000
MAX_EPOCHS = 25
BATCH_SHARE = 0.002
MIN_BATCH, MAX_BATCH = 8, 64
REFERENCE_PARAMETERS = 7e9
REFERENCE_RATE = 2e-4
RATE_EXPONENT = 0.3
MIN_RATE, MAX_RATE = 5e-5, 1e-3


@dataclass(frozen=True)
class AutoValues:
    n_epochs: int
    batch_size: int
    learning_rate: float
    learning_rate_multiplier: float = 1.0


def auto_values(train_examples: int, parameters: int | None) -> AutoValues:
    """Every auto hyperparameter for ``train_examples`` on a model of ``parameters``."""
    return AutoValues(
        n_epochs=auto_epochs(train_examples),
        batch_size=auto_batch_size(train_examples),
        learning_rate=auto_learning_rate(parameters),
    )


def auto_epochs(train_examples: int) -> int:
    n = max(1, train_examples)
    if n * TARGET_EPOCHS < MIN_EXAMPLES_SEEN:
        return min(MAX_EPOCHS, math.ceil(MIN_EXAMPLES_SEEN / n))
    if n * TARGET_EPOCHS > MAX_EXAMPLES_SEEN:
        return max(1, MAX_EXAMPLES_SEEN // n)
    return TARGET_EPOCHS


def auto_batch_size(train_examples: int) -> int:
    wanted = max(1.0, BATCH_SHARE * train_examples)
    power = int(2 ** math.ceil(math.log2(wanted)))
    return min(MAX_BATCH, max(MIN_BATCH, power))


def auto_learning_rate(parameters: int | None) -> float:
    n = parameters if parameters and parameters > 0 else REFERENCE_PARAMETERS
    rate = REFERENCE_RATE * (REFERENCE_PARAMETERS / n) ** RATE_EXPONENT
    rate = min(MAX_RATE, max(MIN_RATE, rate))
    return float(f"{rate:.2g}")


AUTO_FIELDS = ("n_epochs", "batch_size", "learning_rate", "learning_rate_multiplier")


def fill_auto(
    given: dict[str, object], train_examples: int | None, parameters: int | None
) -> tuple[dict[str, object], dict[str, object]]:
    """``given`` (explicit hyperparameters, "auto" and None already left out) with every
    missing auto field resolved; and a record of what was resolved, from what.

    ``train_examples`` is None while the training file is still being checked: the values
    are then provisional (as for an empty set) and ``settle_auto`` resolves them again."""
    resolved = auto_values(train_examples or 0, parameters)
    missing = [name for name in AUTO_FIELDS if given.get(name) is None]
    filled = given | {name: getattr(resolved, name) for name in missing}
    record: dict[str, object] = {
        "resolved": missing,
        "train_examples": train_examples,
        "base_model_parameters": parameters,
        "rule": "trainer/jobs/auto.py",
    }
    return filled, record


def cap_batch_size(record: dict[str, Any], values: dict[str, Any], cap: int) -> None:
    """Keep an "auto" batch size at or under ``cap`` (the largest that fits the trainer's
    memory), now and when it is resolved again; explicit sizes are left alone."""
    if "batch_size" in record.get("resolved", []):
        record["max_batch_size"] = cap
        values["batch_size"] = min(int(values["batch_size"]), cap)


def settle_auto(hyperparameters: dict[str, Any], train_examples: int) -> dict[str, Any] | None:
    """A job's hyperparameters with its provisional "auto" values resolved for the
    ``train_examples`` now known; None when nothing was provisional."""
    auto = hyperparameters.get("auto")
    if not auto or auto.get("train_examples") is not None:
        return None
    resolved = auto_values(train_examples, auto.get("base_model_parameters"))
    settled = {name: getattr(resolved, name) for name in auto.get("resolved", [])}
    if (cap := auto.get("max_batch_size")) is not None:
        cap_batch_size(auto, settled, cap)
    return hyperparameters | settled | {"auto": auto | {"train_examples": train_examples}}
