"""Thin routes of the Files and fine-tuning Jobs APIs; the logic is in ``files`` / ``jobs``.

Jobs are served under OpenAI's ``/v1/fine_tuning/jobs`` and the design card's
``/v1/fine_tunes``: the same handlers, the same objects. Every route acts for the caller:
a user key sees only its own user's files and jobs, an admin key all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.responses import FileResponse, Response

from gateway.api.deps import CallerDep
from gateway.api.fields import NO_CONTROL, After, ObjectId
from gateway.api.open_objects import FilePreview, FileStats, JobMetrics
from gateway.api.openapi import SSE_CONTENT, errors
from gateway.finetune.csv_upload import columns_of
from gateway.finetune.files import FileServing
from gateway.finetune.insights import FileInsights
from gateway.finetune.jobs import JobServing
from gateway.finetune.objects import (
    CheckpointList,
    DeletedFile,
    EventList,
    FileList,
    FileObject,
    FileReport,
    FineTuningJob,
    JobList,
)
from gateway.finetune.protocol import JobCreate


async def get_file_serving(request: Request) -> FileServing:
    serving: FileServing = request.app.state.file_serving
    return serving


async def get_job_serving(request: Request) -> JobServing:
    serving: JobServing = request.app.state.job_serving
    return serving


async def get_file_insights(request: Request) -> FileInsights:
    insights: FileInsights = request.app.state.file_insights
    return insights


FilesDep = Annotated[FileServing, Depends(get_file_serving)]
JobsDep = Annotated[JobServing, Depends(get_job_serving)]
InsightsDep = Annotated[FileInsights, Depends(get_file_insights)]
PROMPT_CELL = "CSV: the column whose cells are the user's turn."
ANSWER_CELL = "CSV: the column whose cells are the assistant's answer."
CSV_SYSTEM = "CSV: a system prompt for every row."

files_router = APIRouter(
    prefix="/v1/files",
    tags=["files"],
)
_FILE_404 = errors(404, why={404: "No such file, or another user's (`file_not_found`)."})
_READ = _FILE_404 | errors(
    409,
    503,
    why={
        409: "The file is still being checked, or was found unusable (`file_not_processed`).",
        503: "The process that reads datasets stopped; try again (`checker_unavailable`).",
    },
)
_CONTENT: dict[int | str, Any] = {
    200: {
        "description": "The file as uploaded.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@files_router.post(
    "",
    summary="Upload a dataset",
    responses=errors(
        413,
        503,
        why={
            413: "The file is larger than `max_file_bytes`.",
            503: "The process that checks datasets stopped; try again (`checker_unavailable`).",
        },
    ),
)
async def upload_file(
    files: FilesDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[Literal["fine-tune"], Form()],
    prompt_column: Annotated[str | None, Form(max_length=200, description=PROMPT_CELL)] = None,
    completion_column: Annotated[str | None, Form(max_length=200, description=ANSWER_CELL)] = None,
    system: Annotated[str | None, Form(max_length=20_000, description=CSV_SYSTEM)] = None,
) -> FileObject:
    """JSONL/JSON in any supported format, or CSV with a column mapping (stored as OpenAI
    ``messages`` JSONL). A file up to 8 MiB (`check_at_upload_max_bytes`) is checked before
    the answer and kept only if every line is a usable example (400 lists each problem with
    its line). A larger one is answered as soon as it is stored, with status `uploaded`, and
    checked after: it becomes `processed`, or `error` with its problems in
    `status_details`."""
    csv = columns_of(prompt_column, completion_column, system)
    return await files.upload(file, purpose, caller, csv)


@files_router.get("", summary="List files")
def list_files(
    files: FilesDep,
    caller: CallerDep,
    purpose: Annotated[str | None, Query(max_length=32, pattern=NO_CONTROL)] = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
) -> FileList:
    return files.list(purpose, after, limit, caller)


@files_router.get("/{file_id}", summary="Retrieve a file", responses=_FILE_404)
def get_file(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> FileObject:
    return files.get(file_id, caller)


@files_router.delete(
    "/{file_id}",
    summary="Delete a file",
    responses=_FILE_404 | errors(409, why={409: "Unfinished jobs use it (`file_in_use`)."}),
)
def delete_file(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> DeletedFile:
    return files.delete(file_id, caller)


@files_router.get(
    "/{file_id}/report",
    summary="A dataset's quality report",
    responses=_READ,
)
async def file_report(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> FileReport:
    """The file's quality report: duplicates, conflicts, imbalance, lengths, ... by line."""
    return FileReport.model_validate(await files.report(file_id, caller))


@files_router.get(
    "/{file_id}/content",
    summary="Download a file's content",
    response_class=Response,
    responses=_CONTENT | _FILE_404,
)
def file_content(files: FilesDep, caller: CallerDep, file_id: ObjectId) -> FileResponse:
    row = files.row(file_id, caller)
    path = Path(row.path)
    return FileResponse(path, filename=row.filename, media_type="application/octet-stream")


_METRICS: dict[int | str, Any] = {200: {"model": JobMetrics, "description": "OK"}}


@files_router.get("/{file_id}/preview", summary="Preview a file's examples", responses=_READ)
async def file_preview(
    insights: InsightsDep,
    caller: CallerDep,
    file_id: ObjectId,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> FilePreview:
    """The file's first ``limit`` examples as OpenAI ``messages`` chats, whatever the format
    it was uploaded in, each with the line it starts on."""
    return FilePreview.model_validate(await insights.preview(file_id, limit, caller))


@files_router.get("/{file_id}/stats", summary="A file's length statistics", responses=_READ)
async def file_stats(insights: InsightsDep, caller: CallerDep, file_id: ObjectId) -> FileStats:
    """Length statistics of the file's examples: tokens with the base model's chat template
    (characters when its tokenizer is not on this machine), a histogram, turns per example."""
    return FileStats.model_validate(await insights.stats(file_id, caller))


def create_job(jobs: JobsDep, caller: CallerDep, body: JobCreate) -> FineTuningJob:
    """Queued once every value is usable (400 lists each problem); trained by a worker."""
    return jobs.create(body, caller)


def list_jobs(
    jobs: JobsDep,
    caller: CallerDep,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobList:
    return jobs.list(after, limit, caller)


def retrieve_job(jobs: JobsDep, caller: CallerDep, job_id: ObjectId) -> FineTuningJob:
    return jobs.retrieve(job_id, caller)


def cancel_job(jobs: JobsDep, caller: CallerDep, job_id: ObjectId) -> FineTuningJob:
    return jobs.cancel(job_id, caller)


def job_events(
    jobs: JobsDep,
    caller: CallerDep,
    job_id: ObjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    stream: bool = False,
) -> EventList | Response:
    if stream:
        return jobs.stream_events(job_id, caller)
    return jobs.events(job_id, after, limit, caller)


def job_checkpoints(
    jobs: JobsDep,
    caller: CallerDep,
    job_id: ObjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> CheckpointList:
    return jobs.checkpoints(job_id, after, limit, caller)


async def job_metrics(
    jobs: JobsDep,
    caller: CallerDep,
    job_id: ObjectId,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = 500,
) -> Response:
    """The job, its train and eval loss curves (each decimated to at most ``max_points``,
    ends and extremes kept) and its latest events; one shared read per job per 0.5 s."""
    body = await jobs.metrics(job_id, max_points, caller)
    return Response(body, media_type="application/json")


_JOB_404 = errors(404, why={404: "No such job, or another user's (`job_not_found`)."})
_EVENTS: dict[int | str, Any] = {
    200: {
        "model": EventList,
        "description": "A page of events; with `stream=true`, every event as server-sent "
        "events until the job ends, then `data: [DONE]`.",
        "content": SSE_CONTENT,
    }
}


def _jobs_router(prefix: str, tag: str) -> APIRouter:
    router = APIRouter(
        prefix=prefix,
        tags=[tag],
    )
    add = router.add_api_route
    add("", create_job, methods=["POST"], summary="Create a fine-tuning job")
    add("", list_jobs, methods=["GET"], summary="List fine-tuning jobs")
    add("/{job_id}", retrieve_job, methods=["GET"], summary="Retrieve a job", responses=_JOB_404)
    add(
        "/{job_id}/cancel",
        cancel_job,
        methods=["POST"],
        summary="Cancel a job",
        responses=_JOB_404 | errors(400, why={400: "The job has ended (`invalid_state`)."}),
    )
    add(
        "/{job_id}/events",
        job_events,
        methods=["GET"],
        summary="List a job's events (or stream them)",
        response_model=None,
        responses=_EVENTS | _JOB_404,
    )
    add(
        "/{job_id}/checkpoints",
        job_checkpoints,
        methods=["GET"],
        summary="List a job's checkpoints",
        responses=_JOB_404,
    )
    add(
        "/{job_id}/metrics",
        job_metrics,
        methods=["GET"],
        summary="A job's loss curves and latest events",
        response_model=None,
        responses=_METRICS | _JOB_404,
    )
    return router


jobs_router = _jobs_router("/v1/fine_tuning/jobs", "fine-tuning")
fine_tunes_router = _jobs_router("/v1/fine_tunes", "fine-tunes")
routers = [files_router, jobs_router, fine_tunes_router]
