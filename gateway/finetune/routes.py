"""Thin routes of the Files and fine-tuning Jobs APIs; the logic is in ``files`` / ``jobs``.

Jobs are served under OpenAI's ``/v1/fine_tuning/jobs`` and the design card's
``/v1/fine_tunes``: the same handlers, the same objects. Every route acts for the caller:
a user key sees only its own user's files and jobs, an admin key all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.responses import FileResponse, Response

from gateway.api.deps import CallerDep
from gateway.api.fields import After, ObjectId
from gateway.finetune.csv_upload import columns_of
from gateway.finetune.files import FileServing
from gateway.finetune.insights import FileInsights
from gateway.finetune.jobs import JobServing
from gateway.finetune.protocol import JobCreate


def get_file_serving(request: Request) -> FileServing:
    serving: FileServing = request.app.state.file_serving
    return serving


def get_job_serving(request: Request) -> JobServing:
    serving: JobServing = request.app.state.job_serving
    return serving


def get_file_insights(request: Request) -> FileInsights:
    insights: FileInsights = request.app.state.file_insights
    return insights


FilesDep = Annotated[FileServing, Depends(get_file_serving)]
InsightsDep = Annotated[FileInsights, Depends(get_file_insights)]
JobsDep = Annotated[JobServing, Depends(get_job_serving)]

PROMPT_CELL = "CSV: the column whose cells are the user's turn."
ANSWER_CELL = "CSV: the column whose cells are the assistant's answer."
CSV_SYSTEM = "CSV: a system prompt for every row."

files_router = APIRouter(prefix="/v1/files", tags=["files"])


@files_router.post("")
async def upload_file(
    files: FilesDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[str, Form()],
    prompt_column: Annotated[str | None, Form(max_length=200, description=PROMPT_CELL)] = None,
    completion_column: Annotated[str | None, Form(max_length=200, description=ANSWER_CELL)] = None,
    system: Annotated[str | None, Form(max_length=20_000, description=CSV_SYSTEM)] = None,
) -> dict[str, Any]:
    """Store a dataset (JSONL/JSON in any supported format; CSV with a column mapping,
    stored as OpenAI ``messages`` JSONL) if every line of it is usable."""
    csv = columns_of(prompt_column, completion_column, system)
    return await files.upload(file, purpose, caller, csv)


@files_router.get("")
def list_files(
    files: FilesDep,
    caller: CallerDep,
    purpose: str | None = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
) -> dict[str, Any]:
    return files.list(purpose, after, limit, caller)


@files_router.get("/{file_id}")
def get_file(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> dict[str, Any]:
    return files.get(file_id, caller)


@files_router.delete("/{file_id}")
def delete_file(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> dict[str, Any]:
    return files.delete(file_id, caller)


@files_router.get("/{file_id}/report")
async def file_report(files: FilesDep, caller: CallerDep, file_id: str) -> dict[str, Any]:
    """The file's quality report: duplicates, conflicts, imbalance, lengths, ... by line."""
    return await files.report(file_id, caller)


@files_router.get("/{file_id}/content")
def file_content(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> FileResponse:
    row = files.row(file_id, caller)
    return FileResponse(Path(row.path), filename=row.filename)


@files_router.get("/{file_id}/preview")
async def file_preview(
    insights: InsightsDep,
    caller: CallerDep,
    file_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> dict[str, Any]:
    """The file's first ``limit`` examples as OpenAI ``messages`` chats, whatever the format
    it was uploaded in, each with the line it starts on."""
    return await insights.preview(file_id, limit, caller)


@files_router.get("/{file_id}/stats")
async def file_stats(insights: InsightsDep, caller: CallerDep, file_id: str) -> dict[str, Any]:
    """Length statistics of the file's examples: tokens with the base model's chat template
    (characters when its tokenizer is not on this machine), a histogram, turns per example."""
    return await insights.stats(file_id, caller)


def create_job(jobs: JobsDep, caller: CallerDep, body: JobCreate) -> dict[str, Any]:
    return jobs.create(body, caller)


def list_jobs(
    jobs: JobsDep,
    caller: CallerDep,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    return jobs.list(after, limit, caller)


def retrieve_job(jobs: JobsDep, caller: CallerDep, job_id: ObjectId) -> dict[str, Any]:
    return jobs.retrieve(job_id, caller)


def cancel_job(jobs: JobsDep, caller: CallerDep, job_id: ObjectId) -> dict[str, Any]:
    return jobs.cancel(job_id, caller)


def job_events(
    jobs: JobsDep,
    caller: CallerDep,
    job_id: ObjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    stream: bool = False,
) -> dict[str, Any] | Response:
    if stream:
        return jobs.stream_events(job_id, caller)
    return jobs.events(job_id, after, limit, caller)


def job_checkpoints(
    jobs: JobsDep,
    caller: CallerDep,
    job_id: ObjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return jobs.checkpoints(job_id, after, limit, caller)


async def job_metrics(
    jobs: JobsDep,
    caller: CallerDep,
    job_id: str,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = 500,
) -> Response:
    """The job, its train and eval loss curves (each decimated to at most ``max_points``,
    ends and extremes kept) and its latest events; one shared read per job per 0.5 s."""
    body = await jobs.metrics(job_id, max_points, caller)
    return Response(body, media_type="application/json")


def _jobs_router(prefix: str, tag: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[tag])
    router.add_api_route("", create_job, methods=["POST"])
    router.add_api_route("", list_jobs, methods=["GET"])
    router.add_api_route("/{job_id}", retrieve_job, methods=["GET"])
    router.add_api_route("/{job_id}/cancel", cancel_job, methods=["POST"])
    router.add_api_route("/{job_id}/events", job_events, methods=["GET"], response_model=None)
    router.add_api_route("/{job_id}/checkpoints", job_checkpoints, methods=["GET"])
    router.add_api_route("/{job_id}/metrics", job_metrics, methods=["GET"], response_model=None)
    return router


jobs_router = _jobs_router("/v1/fine_tuning/jobs", "fine-tuning")
fine_tunes_router = _jobs_router("/v1/fine_tunes", "fine-tunes")
routers = [files_router, jobs_router, fine_tunes_router]
