"""Synthetic datasets from a teacher model: few-shot prompts from seeds, lenient parsing,
strict checks, exact and near-duplicate removal, backoff, a call cap, resumable output."""

from trainer.datasets.synth.output import SynthError
from trainer.datasets.synth.parse import REASONS
from trainer.datasets.synth.run import MIN_SEEDS, SynthJob, synthesize
from trainer.datasets.synth.tally import Tally
from trainer.datasets.synth.teacher import Teacher, TeacherError

__all__ = [
    "MIN_SEEDS",
    "REASONS",
    "SynthError",
    "SynthJob",
    "Tally",
    "Teacher",
    "TeacherError",
    "synthesize",
]
