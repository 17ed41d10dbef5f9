"""Files over ``check_at_upload_max_bytes`` answer as soon as they are stored (``uploaded``)
and are checked by a child process after: ``processed``, or ``error`` with each problem
by line. A check left by a stopped process is taken over. The gateway's own process never
loads the tokenizer stack."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.gateway.finetune.conftest import bearer
from tests.trainer.jobs.helpers import MODEL_NAME, write_reviews
from trainer.jobs.states import new_id
from trainer.jobs.store import Store, now
from trainer.jobs.tables import FileRow

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo."}]}


def upload(client: TestClient, name: str, content: bytes, **form: str) -> Any:
    data = {"purpose": "fine-tune"} | form
    response = client.post("/v1/files", files={"file": (name, content)}, data=data)
    assert response.status_code == 200, response.text
    return response.json()


def checked(client: TestClient, file_id: str, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        file = client.get(f"/v1/files/{file_id}").json()
        if file["status"] != "uploaded":
            return file
        time.sleep(0.2)
    raise AssertionError(f"{file_id} was still uploaded after {timeout_s} s")


def small_limit(client: TestClient) -> None:
    client.app.state.file_serving.settings.finetune.check_at_upload_max_bytes = 64  # type: ignore[attr-defined]


def test_a_large_bad_file_answers_at_once_then_shows_its_problems(client: TestClient) -> None:
    small_limit(client)
    lines = [json.dumps(GOOD)] * 5 + ["{not json", json.dumps({"messages": []})]
    file = upload(client, "big.jsonl", "\n".join(lines).encode())
    assert (file["status"], file["examples"], file["status_details"]) == ("uploaded", None, None)
    for route in ("report", "stats", "preview"):  # nothing to read until it is checked
        early = client.get(f"/v1/files/{file['id']}/{route}")
        assert early.status_code in (200, 409), early.text
        if early.status_code == 409:
            assert early.json()["error"]["code"] == "file_not_processed"
    queued = client.post("/v1/fine_tunes", json={"model": MODEL_NAME, "training_file": file["id"]})
    done = checked(client, file["id"])
    assert done["status"] == "error"
    assert "big.jsonl:6:" in done["status_details"]
    assert "big.jsonl:7:" in done["status_details"]
    assert "big.jsonl:1:" not in done["status_details"]
    if queued.status_code == 200:  # created while the file was still uploaded: it waits
        assert queued.json()["status"] == "queued"
    refused = client.post("/v1/fine_tunes", json={"model": MODEL_NAME, "training_file": file["id"]})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_file"
    assert "big.jsonl:6:" in refused.json()["error"]["message"]
    assert client.get(f"/v1/files/{file['id']}/report").status_code == 409


def test_a_large_csv_keeps_its_mapping_until_checked(client: TestClient) -> None:
    small_limit(client)
    rows = "question,reply\n" + "".join(f"q{i}?,a{i}.\n" for i in range(30))
    file = upload(client, "pairs.csv", rows.encode(), prompt_column="question",
                  completion_column="reply")  # fmt: skip
    assert file["status"] == "uploaded"
    done = checked(client, file["id"])
    assert (done["status"], done["format"], done["examples"]) == ("processed", "openai", 30)
    preview = client.get(f"/v1/files/{done['id']}/preview?limit=1").json()
    assert preview["data"][0]["messages"][0] == {"role": "user", "content": "q0?"}


def test_a_check_left_by_a_stopped_process_is_taken_over(
    settings: Settings, keys: Any, tmp_path: Path
) -> None:
    files_dir = settings.data_dir / "files"
    files_dir.mkdir(parents=True)
    file_id = new_id("file")
    staged = files_dir / f".upload-{file_id}.jsonl"
    write_reviews(staged, 12)
    store = Store(settings.job_database_url)
    store.files.add(
        FileRow(
            id=file_id,
            filename="reviews.jsonl",
            purpose="fine-tune",
            bytes=staged.stat().st_size,
            created_at=now(),
            path=str(staged),
            status="uploaded",
            checker="a-process-that-died",
            checked_at=time.time() - 3600,
        )
    )
    store.close()
    _, secret = keys.create("root", "admin")
    with TestClient(create_app(settings), headers=bearer(secret)) as client:
        done = checked(client, file_id)  # the sweep at start takes it over
    assert (done["status"], done["examples"]) == ("processed", 12)
    assert not staged.exists()
    assert (files_dir / f"{file_id}.jsonl").is_file()


PROBE = textwrap.dedent(
    """
    import json, sys, time
    from fastapi.testclient import TestClient
    from gateway.app import create_app
    from gateway.settings import Settings

    settings = Settings.model_validate_json(sys.argv[1])
    good = json.dumps({"messages": [{"role": "user", "content": "hi"},
                                    {"role": "assistant", "content": "yo."}]})
    with TestClient(create_app(settings)) as client:
        def send(name, lines):
            r = client.post("/v1/files", files={"file": (name, "\\n".join(lines).encode())},
                            data={"purpose": "fine-tune"})
            assert r.status_code == 200, r.text
            return r.json()
        small = send("small.jsonl", [good] * 3)
        assert small["status"] == "processed" and small["tokens"] > 0, small
        for route in ("report", "stats", "preview"):
            assert client.get(f"/v1/files/{small['id']}/{route}").status_code == 200
        settings.finetune.check_at_upload_max_bytes = 10
        large = send("large.jsonl", [good] * 50)
        while client.get(f"/v1/files/{large['id']}").json()["status"] == "uploaded":
            time.sleep(0.1)
    heavy = [m for m in ("torch", "transformers", "tokenizers", "rensa", "numpy")
             if m in sys.modules]
    print(json.dumps(heavy))
    """
)


def test_the_gateway_process_never_loads_the_tokenizer_stack(settings: Settings) -> None:
    """Uploads (small and large), reports, stats and previews, in a fresh interpreter:
    the work is done, with tokens counted, and none of it was imported there."""
    open_settings = settings.model_copy(update={"auth": settings.auth.model_copy()})
    open_settings.auth.enabled = False
    run = subprocess.run(
        [sys.executable, "-c", PROBE, open_settings.model_dump_json()],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []


def test_a_file_that_breaks_the_check_ends_in_error_not_in_a_retry_loop(
    settings: Settings, keys: Any
) -> None:
    files_dir = settings.data_dir / "files"
    file_id = new_id("file")
    staged = files_dir / f".upload-{file_id}.jsonl"
    staged.mkdir(parents=True)  # a folder where the bytes should be: reading it raises
    store = Store(settings.job_database_url)
    left = FileRow(
        id=file_id, filename="broken.jsonl", purpose="fine-tune", bytes=1, created_at=now(),
        path=str(staged), status="uploaded", checker=None, checked_at=None,
    )  # fmt: skip
    store.files.add(left)
    store.close()
    _, secret = keys.create("root", "admin")
    with TestClient(create_app(settings), headers=bearer(secret)) as client:
        done = checked(client, file_id)
    assert done["status"] == "error"
    assert "'broken.jsonl' could not be checked" in done["status_details"]


def test_a_csv_refused_after_conversion_leaves_no_file_behind(
    client: TestClient, settings: Settings
) -> None:
    too_long = " ".join(f"w{i}!" for i in range(3000))  # converts, then is over max_model_len
    rows = "question,reply\n" + "".join(f"q{i}?,a{i}.\n" for i in range(3)) + f"q3?,{too_long}\n"
    response = client.post(
        "/v1/files",
        files={"file": ("pairs.csv", rows.encode())},
        data={"purpose": "fine-tune", "prompt_column": "question", "completion_column": "reply"},
    )
    assert response.status_code == 400, response.text
    assert "pairs.csv" in response.json()["error"]["message"]
    assert list((settings.data_dir / "files").iterdir()) == []
    small_limit(client)  # the same file, checked after the upload: its converted bytes are kept
    file = upload(client, "pairs.csv", rows.encode(), prompt_column="question",
                  completion_column="reply")  # fmt: skip
    done = checked(client, file["id"])
    assert done["status"] == "error", done
    content = client.get(f"/v1/files/{file['id']}/content")
    assert content.status_code == 200
