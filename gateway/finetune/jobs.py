"""The fine-tuning Jobs API's logic: create (refusing what could not be trained or served),
list, retrieve, cancel, events (also streamed) and checkpoints."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import orjson
from pydantic import ValidationError
from starlette.responses import StreamingResponse

from adapters.record import check_suffix, is_adapter_name
from gateway.auth.caller import Caller
from gateway.errors import APIError
from gateway.finetune.feed import JobFeed
from gateway.finetune.files import FINE_TUNE
from gateway.finetune.objects import CheckpointList, EventList, FineTuningJob, JobList
from gateway.finetune.protocol import Hyperparameters, JobCreate
from gateway.finetune.render import checkpoint_object, event_object, job_object, list_object
from gateway.finetune.series import metrics_object
from gateway.settings import Settings
from trainer.jobs.auto import MAX_BATCH, MIN_BATCH, cap_batch_size, fill_auto
from trainer.jobs.spec import JobSpec, LoraSpec
from trainer.jobs.states import FILE_ERROR, QUEUED, TERMINAL, UPLOADED, new_id
from trainer.jobs.store import Store, now
from trainer.jobs.tables import JobRow
from trainer.memory_estimate import GIB, ModelShape, training_bytes
from trainer.model_size import parameter_count

Problem = tuple[str, str, str]  # param, code, message
STREAM_POLL_S = 0.5
RECENT_EVENTS = 50
RENDERED_KEPT = 256
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def job_not_found(job_id: str) -> APIError:
    return APIError(404, f"No such fine-tuning job: '{job_id}'.", code="job_not_found")


class JobServing:
    """Fine-tuning jobs; each belongs to the user whose key created it (and so does its
    adapter): another user's job is answered as an unknown one."""

    def __init__(self, settings: Settings, store: Store, feed: JobFeed | None = None) -> None:
        self.settings = settings
        self.store = store
        self._parameter_count: int | None = None
        self.feed = feed or JobFeed(store, STREAM_POLL_S)
        self._rendered: dict[tuple[str, int], tuple[int, bytes]] = {}

    def create(self, body: JobCreate, caller: Caller) -> FineTuningJob:
        spec, problems = self._spec(body, self._train_examples(body, caller))
        problems += self._model_problems(body.model)
        problems += self._file_problems(body.training_file, "training_file", caller)
        if body.validation_file is not None:
            problems += self._file_problems(body.validation_file, "validation_file", caller)
        if body.suffix is not None and (suffix_problem := check_suffix(body.suffix)):
            problems.append(("suffix", "invalid_value", suffix_problem))
        if body.seed is not None and not 0 <= body.seed < 2**31:
            problems.append(("seed", "invalid_value", "seed must be in [0, 2**31)"))
        if problems or spec is None:
            raise _refusal(problems)
        seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
        row = JobRow(
            id=new_id("ftjob"), status=QUEUED, model=self.settings.base_model_name or body.model,
            training_file=body.training_file, validation_file=body.validation_file,
            suffix=body.suffix, seed=seed,
            hyperparameters=spec.model_dump(), created_at=now(), attempts=0, owner=caller.owner,
        )  # fmt: skip
        self.store.jobs.create(row)
        self.store.log.event(row.id, "Created fine-tuning job; waiting for a worker")
        return job_object(row)

    def _train_examples(self, body: JobCreate, caller: Caller) -> int | None:
        """About how many examples the job trains on (its file's, less the held-out share);
        None while the file is still being checked (the worker resolves "auto" then)."""
        row = self.store.files.get(body.training_file)
        if row is not None and row.status == UPLOADED:
            return None
        if row is None or not caller.may_see(row.owner) or not row.examples:
            return 0
        held_out = 0.1 if body.validation_file else 0.2  # the split's test (+ validation)
        return max(1, round(row.examples * (1 - held_out)))

    def _parameters(self) -> int | None:
        if self._parameter_count is None:
            self._parameter_count = parameter_count(self.settings.base_model_path)
        return self._parameter_count

    def _spec(
        self, body: JobCreate, train_examples: int | None
    ) -> tuple[JobSpec | None, list[Problem]]:
        problems: list[Problem] = []
        given = body.hyperparameters or Hyperparameters()
        if body.method is not None:
            if body.method.type != "supervised":
                message = f"method.type '{body.method.type}' is not supported; use 'supervised'"
                problems.append(("method.type", "unsupported_method", message))
            supervised = body.method.supervised
            if supervised is not None and supervised.hyperparameters is not None:
                given = supervised.hyperparameters
        explicit = {k: v for k, v in given.model_dump(exclude_none=True).items() if v != "auto"}
        values, auto = fill_auto(explicit, train_examples, self._parameters())
        lora = LoraSpec().model_dump() | (
            body.lora.model_dump(exclude_none=True) if body.lora else {}
        )
        try:
            spec = JobSpec(**values, lora=LoraSpec(**lora), auto=auto)
            cap = self._largest_fitting_batch(spec)
            if cap is not None:
                cap_batch_size(auto, values, cap)
                spec = JobSpec(**values, lora=LoraSpec(**lora), auto=auto)
        except ValidationError as exc:
            return None, [*problems, ("hyperparameters", "invalid_value", str(exc))]
        max_rank = self.settings.engine.max_lora_rank
        problems += [(param, "invalid_value", msg) for param, msg in spec.problems(max_rank)]
        return spec, problems + self._memory_problems(spec)

    def _shape(self) -> ModelShape | None:
        """The base model's shape for the memory estimate; None when there is no budget to
        hold it against (the CPU) or it cannot be read (no safetensors or config)."""
        parameters = self._parameters()
        if self.settings.finetune.memory_limit_gib is None or parameters is None:
            return None
        return ModelShape.read(self.settings.base_model_path, parameters)

    def _largest_fitting_batch(self, spec: JobSpec) -> int | None:
        """The largest power-of-two batch an "auto" batch size may take in the budget."""
        limit_gib, shape = self.settings.finetune.memory_limit_gib, self._shape()
        if limit_gib is None or shape is None:
            return None
        batch = MAX_BATCH
        while batch > MIN_BATCH:
            if training_bytes(shape, batch, spec.max_seq_len, spec.lora.r) / GIB <= limit_gib:
                return batch
            batch //= 2
        return MIN_BATCH  # the smallest; _memory_problems refuses it if even that does not fit

    def _memory_problems(self, spec: JobSpec) -> list[Problem]:
        """A job whose estimated memory exceeds the trainer's budget is refused now."""
        limit_gib, shape = self.settings.finetune.memory_limit_gib, self._shape()
        if limit_gib is None or shape is None:
            return []
        need = training_bytes(shape, spec.batch_size, spec.max_seq_len, spec.lora.r) / GIB
        if need <= limit_gib:
            return []
        message = (
            f"this job needs about {need:.1f} GiB to train (batch_size {spec.batch_size}, "
            f"max_seq_len {spec.max_seq_len}, rank {spec.lora.r}); the trainer has "
            f"{limit_gib:.1f} GiB: lower batch_size or max_seq_len"
        )
        return [("hyperparameters.batch_size", "insufficient_memory", message)]

    def _model_problems(self, model: str) -> list[Problem]:
        known = {name for name in (self.settings.base_model_name, self.settings.base_model) if name}
        if model in known:
            return []
        if is_adapter_name(model):
            message = f"'{model}' is an adapter; fine-tune its base model instead"
        elif not known:
            message = "the base model's name is unknown: set LORAGATE_SERVED_MODEL_NAME"
        else:
            message = f"'{model}' is not a base model here; use '{sorted(known)[0]}'"
        return [("model", "model_not_found", message)]

    def _file_problems(self, file_id: str, param: str, caller: Caller) -> list[Problem]:
        row = self.store.files.get(file_id)
        if row is None or not caller.may_see(row.owner):
            return [(param, "file_not_found", f"{param} '{file_id}' does not exist")]
        if row.purpose != FINE_TUNE:
            return [(param, "invalid_file", f"{param} '{file_id}' is not a '{FINE_TUNE}' file")]
        if row.status == FILE_ERROR:
            message = f"{param} '{file_id}' is not usable: {row.status_details or 'see the file'}"
            return [(param, "invalid_file", message)]
        return []  # processed, or uploaded: then the job waits until the file is checked

    def row(self, job_id: str, caller: Caller) -> JobRow:
        """The job, if ``caller`` may see it; 404 otherwise."""
        row = self.store.jobs.get(job_id)
        if row is None or not caller.may_see(row.owner):
            raise job_not_found(job_id)
        return row

    def retrieve(self, job_id: str, caller: Caller) -> FineTuningJob:
        return job_object(self.row(job_id, caller))

    def list(self, after: str | None, limit: int, caller: Caller) -> JobList:
        page = self.store.jobs.page(after, limit, caller.owner_filter)
        return list_object(JobList, page.rows, page.has_more, job_object)

    def cancel(self, job_id: str, caller: Caller) -> FineTuningJob:
        row = self.row(job_id, caller)
        if row.status in TERMINAL or not self.store.jobs.cancel(job_id):
            status = self.row(job_id, caller).status
            raise APIError(400, f"The job is already {status}.", code="invalid_state")
        self.store.log.event(job_id, "Job cancelled by request")
        return job_object(self.row(job_id, caller))

    def events(self, job_id: str, after: str | None, limit: int, caller: Caller) -> EventList:
        self.row(job_id, caller)
        page = self.store.log.events(job_id, after, limit)
        return list_object(EventList, page.rows, page.has_more, event_object)

    def checkpoints(
        self, job_id: str, after: str | None, limit: int, caller: Caller
    ) -> CheckpointList:
        row = self.row(job_id, caller)
        page = self.store.log.checkpoints(job_id, after, limit)
        name = row.fine_tuned_model or f"ft:{row.model}:{row.suffix or ''}:{row.id}"
        return list_object(
            CheckpointList, page.rows, page.has_more, lambda ckpt: checkpoint_object(ckpt, name)
        )

    def stream_events(self, job_id: str, caller: Caller) -> StreamingResponse:
        self.row(job_id, caller)
        return StreamingResponse(
            self._event_stream(job_id), media_type="text/event-stream", headers=SSE_HEADERS
        )

    async def _event_stream(self, job_id: str) -> AsyncIterator[bytes]:
        """Every event oldest first, then new ones as they come; ends when the job ends.
        Reads come from the shared feed: many streams of one job cost one read per interval."""
        sent = 0
        ended_before = False  # one more look after the end: the last events follow the status
        while True:
            snapshot = await self.feed.snapshot(job_id)
            new = snapshot.events[sent:]
            for event in new:
                yield b"data: " + event_object(event).model_dump_json().encode() + b"\n\n"
            sent += len(new)
            if snapshot.ended and ended_before and not new:
                break
            ended_before = snapshot.ended
            await asyncio.sleep(self.feed.interval_s)
        yield b"data: [DONE]\n\n"

    async def metrics(self, job_id: str, max_points: int, caller: Caller) -> bytes:
        """The job, its loss curves decimated to ``max_points`` each and its latest events
        (JSON): what a job page polls. Answered from the shared feed, and rendered once per
        feed read for all the viewers asking for the same ``max_points``."""
        snapshot = await self.feed.snapshot(job_id)
        job = snapshot.job
        if job is None or not caller.may_see(job.owner):
            raise job_not_found(job_id)
        key = (job_id, max_points)
        cached = self._rendered.get(key)
        if cached is not None and cached[0] == snapshot.version:
            return cached[1]
        body = metrics_object(job_id, job.status, snapshot.curves, max_points)
        body["job"] = job_object(job).model_dump(mode="json")
        latest = snapshot.events[-RECENT_EVENTS:]
        body["recent_events"] = [
            event_object(event).model_dump(mode="json") for event in reversed(latest)
        ]
        rendered = orjson.dumps(body)
        if len(self._rendered) >= RENDERED_KEPT:
            self._rendered.clear()
        self._rendered[key] = (snapshot.version, rendered)
        return rendered


def _refusal(problems: list[Problem]) -> APIError:
    param, code, _ = problems[0] if problems else (None, "invalid_value", "")
    lines = [f"{p}: {message}" for p, _, message in problems] or ["invalid request"]
    return APIError(400, "; ".join(lines), param=param, code=code)
