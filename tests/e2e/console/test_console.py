"""The web console in headless Chromium against a real ``loragate up`` (the issue's
"Must show" list). The tests run in order on one page and share what they made (``made``):
carol uploads and fine-tunes, dave (another user) must see none of it, the admin flips
maintenance. Every test ends with no JavaScript errors on the page."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.console.browser import Watched
from tests.e2e.test_auth import new_key
from tests.helpers import Stack
from tests.trainer.jobs.helpers import write_reviews

pytestmark = pytest.mark.engine

TERMINAL = ("succeeded", "failed", "cancelled")
CHINESE = [
    {"messages": [{"role": "user", "content": "这家外卖怎么样？送餐很快，味道好极了"},
                  {"role": "assistant", "content": "好评"}]},
    {"messages": [{"role": "user", "content": "菜都凉了，等了一个多小时"},
                  {"role": "assistant", "content": "差评"}]},
]  # fmt: skip


@pytest.fixture(scope="module")
def made(stack: Stack) -> dict[str, Any]:
    """Keys for two users; the tests add what they create."""
    return {"carol": new_key(stack, "carol")["key"], "dave": new_key(stack, "dave")["key"]}


def upload(watched: Watched, path: Path) -> None:
    watched.page.set_input_files("#upload-input", str(path))


def test_sign_in_with_a_bad_key_then_a_good_one(
    stack: Stack, watched: Watched, made: dict[str, Any]
) -> None:
    page = watched.page
    watched.go(stack.base_url, "/")
    page.fill("#api-key", "lg-not-a-key")
    page.click("#sign-in")
    expect(page.locator("#sign-in-status .error")).to_contain_text("unknown or has been revoked")
    watched.shot("sign-in-refused")
    assert page.evaluate("Object.keys(localStorage).length") == 0
    watched.sign_in(stack.base_url, made["carol"])
    expect(page.locator("#service-status")).to_contain_text("Service")
    assert made["carol"] not in page.url
    assert page.evaluate("Object.keys(localStorage).length") == 0
    watched.shot("overview")
    watched.assert_no_errors()


def test_upload_a_good_and_a_bad_dataset(
    stack: Stack, watched: Watched, made: dict[str, Any], tmp_path: Path
) -> None:
    page = watched.page
    watched.go(stack.base_url, "/datasets")
    bad = tmp_path / "bad.jsonl"
    good = json.dumps(CHINESE[0], ensure_ascii=False)
    bad.write_text(f'{good}\n{{"messages": [{{"role": "user", "content": "hi"}}]}}\nnot json\n')
    upload(watched, bad)
    problems = page.locator("#upload-error .error")
    expect(problems).to_contain_text("bad.jsonl:2")
    expect(problems).to_contain_text("bad.jsonl:3")
    watched.shot("datasets-bad-upload")

    upload(watched, write_reviews(tmp_path / "reviews.jsonl", 250, seed=0))
    expect(page.locator("#upload-ok")).to_contain_text("250 examples")
    chinese = tmp_path / "外卖.jsonl"
    chinese.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in CHINESE))
    upload(watched, chinese)
    expect(page.locator("#upload-ok")).to_contain_text("2 examples")
    expect(page.locator("#file-list")).to_contain_text("reviews.jsonl")
    watched.shot("datasets")
    page.locator("#upload-ok a").click()
    expect(page.locator("#preview")).to_contain_text("味道好极了")
    expect(page.locator("#stats")).to_contain_text("Length in tokens")
    expect(page.locator("#report")).to_contain_text("Quality report")  # GET /v1/files/{id}/report
    made["chinese_file"] = page.url.rsplit("/", 1)[-1]
    watched.shot("dataset-chinese")
    watched.assert_no_errors()


def test_chinese_renders_with_a_cjk_font(stack: Stack, watched: Watched) -> None:
    page = watched.page
    expect(page.locator("#preview")).to_contain_text("味道好极了")
    loaded = page.evaluate(
        "async () => (await document.fonts.load('16px LoragateCJK', '味道好极了')).length"
    )
    assert loaded >= 1, "no local CJK font matched the console's LoragateCJK face"
    assert page.evaluate("document.fonts.check('16px LoragateCJK', '味道好极了')")
    # What Chromium really drew the Chinese message with:
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "#preview .msg"})
    cdp.send("CSS.enable")
    families: set[str] = set()
    for node in nodes["nodeIds"]:
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        families |= {font["familyName"] for font in fonts}
    assert any("CJK" in family for family in families), families
    watched.assert_no_errors()


def write_large(path: Path, lines: int, bad_line: int | None = None) -> Path:
    """Over 8 MiB (checked after the upload): review chats padded with JSON whitespace to
    9,000 bytes a line, so the check stays quick; ``bad_line`` is not JSON."""
    with path.open("w", encoding="utf-8") as out:
        for number, row in enumerate(itertools.cycle(CHINESE), start=1):
            if number > lines:
                break
            text = json.dumps(row, ensure_ascii=False)
            text = "not json" if number == bad_line else text
            out.write(text + " " * (9000 - len(text.encode())) + "\n")
    return path


def test_a_large_upload_is_checked_after_and_its_page_follows(
    stack: Stack, watched: Watched, tmp_path: Path
) -> None:
    page = watched.page
    watched.go(stack.base_url, "/datasets")
    upload(watched, write_large(tmp_path / "large.jsonl", 1000))
    expect(page.locator("#upload-ok")).to_contain_text("checked now, after the upload")
    page.locator("#upload-ok a").click()
    expect(page.locator("#checking")).to_contain_text("is being checked")
    watched.shot("dataset-being-checked")
    expect(page.locator("#preview")).to_contain_text("味道好极了", timeout=180_000)
    expect(page.locator("#stats")).to_contain_text("1000")
    watched.go(stack.base_url, "/datasets")
    upload(watched, write_large(tmp_path / "large-bad.jsonl", 1000, bad_line=7))
    expect(page.locator("#upload-ok")).to_contain_text("checked now, after the upload")
    page.locator("#upload-ok a").click()
    expect(page.locator("#file-problems")).to_contain_text("large-bad.jsonl:7", timeout=180_000)
    watched.shot("dataset-unusable")
    watched.assert_no_errors()


def points(watched: Watched) -> int:
    return int(watched.page.locator("#loss-chart").get_attribute("data-train-points") or 0)


def test_a_job_from_the_form_plots_live_loss_and_succeeds(
    stack: Stack, watched: Watched, made: dict[str, Any]
) -> None:
    page = watched.page
    watched.go(stack.base_url, "/jobs")
    form = page.locator("#job-form")
    expect(form).to_be_visible()
    page.select_option("#job-training_file", label=page.locator(
        "#job-training_file option", has_text="reviews.jsonl").first.inner_text())  # fmt: skip
    page.fill("#job-batch_size", "abc")
    page.click("#job-create")
    expect(page.locator("#job-error")).to_contain_text("batch_size")  # the API's own message
    page.fill("#job-suffix", "console")
    # 200 training examples (of 250), one per step, twice: 400 steps, long enough on a fast
    # CPU for several of the worker's once-a-second loss reports while the job runs
    page.fill("#job-n_epochs", "2")
    page.fill("#job-batch_size", "1")
    page.fill("#job-eval_every_steps", "20")
    page.fill("#job-seed", "1")
    page.click("#job-create")
    expect(page.locator("#loss-chart")).to_be_visible()
    made["job"] = page.url.rsplit("/", 1)[-1]
    seen: list[int] = []
    deadline = time.monotonic() + 900
    status = ""
    while time.monotonic() < deadline:
        status = page.locator("#job-status").inner_text()
        if status == "running":
            count = points(watched)
            if not seen or count != seen[-1]:
                seen.append(count)
            if len(seen) in (4, 40, 80):  # the last one taken is kept
                watched.shot("job-running")
        if status in TERMINAL:
            break
        page.wait_for_timeout(500)
    rises = sum(1 for a, b in itertools.pairwise(seen) if b > a)
    assert rises >= 2, f"plotted points while running: {seen}"
    assert status == "succeeded", stack.log_of("worker")[-3000:]
    expect(page.locator("#result")).to_contain_text("Before / after")
    expect(page.locator("#checkpoints")).to_contain_text("best")
    total = int(page.locator("#loss-chart").get_attribute("data-eval-points") or 0)
    assert total >= 20  # 400 steps, an eval every 20
    job = httpx.get(f"{stack.base_url}/v1/fine_tunes/{made['job']}", headers=stack.headers).json()
    assert job["hyperparameters"]["eval_every_steps"] == 20
    made["adapter"] = job["fine_tuned_model"]
    watched.shot("job-succeeded")
    watched.assert_no_errors()


def test_playground_streams_base_and_adapter_side_by_side(
    stack: Stack, watched: Watched, made: dict[str, Any]
) -> None:
    page = watched.page
    page.click("#try-it")
    expect(page.locator("#pg-model-b")).to_have_value(made["adapter"])
    expect(page.locator("#pg-model-a")).to_have_value(stack.model)
    page.fill("#pg-prompt", "Review: the food was cold and late, never again. Sentiment?")
    page.fill("#pg-max-tokens", "16")
    page.click("#pg-send")
    for side in ("a", "b"):
        expect(page.locator(f"#pg-stats-{side}")).to_contain_text("total", timeout=120_000)
        stats = page.locator(f"#pg-stats-{side}").inner_text()
        assert "completion tokens" in stats, stats
        pieces = page.evaluate(f"document.getElementById('pg-answer-{side}').childNodes.length")
        assert pieces >= 1
    adapter_pieces = page.evaluate("document.getElementById('pg-answer-b').childNodes.length")
    base_pieces = page.evaluate("document.getElementById('pg-answer-a').childNodes.length")
    assert adapter_pieces + base_pieces >= 3, "answers arrived in one piece: not streamed"
    watched.shot("playground")
    watched.assert_no_errors()


def test_adapters_page_shows_the_new_adapter(
    stack: Stack, watched: Watched, made: dict[str, Any]
) -> None:
    page = watched.page
    watched.go(stack.base_url, "/adapters")
    row = page.locator("#adapter-list tr", has_text=made["adapter"])
    expect(row).to_contain_text("carol")
    expect(row).to_contain_text(made["job"])
    watched.shot("adapters")
    watched.assert_no_errors()


def set_mode(watched: Watched, mode: str, reason: str) -> None:
    page = watched.page
    page.select_option("#switch-mode", mode)
    page.fill("#switch-reason", reason)
    page.click("#switch-set")


def test_admin_sets_maintenance_with_a_reason_then_normal(stack: Stack, watched: Watched) -> None:
    page = watched.page
    watched.sign_out()
    assert page.evaluate("sessionStorage.length") == 0  # sign-out forgot the key
    watched.sign_in(stack.base_url, stack.admin_key)
    watched.go(stack.base_url, "/admin")
    set_mode(watched, "maintenance", "")
    expect(page.locator("#switch-status .error")).to_contain_text("reason is required")
    reason = "console test: engine upgrade"
    set_mode(watched, "maintenance", reason)
    expect(page.locator("#degradation h2")).to_contain_text("maintenance")
    expect(page.locator("#degradation table")).to_contain_text(reason)
    watched.shot("admin")
    public = httpx.get(f"{stack.base_url}/v1/status", timeout=10).json()
    assert (public["status"], public["message"]) == ("maintenance", reason)
    watched.go(stack.base_url, "/")
    expect(page.locator("#service-status")).to_contain_text("maintenance")
    expect(page.locator("#service-status")).to_contain_text(reason)
    watched.shot("overview-maintenance")
    watched.go(stack.base_url, "/admin")
    set_mode(watched, "normal", "")
    expect(page.locator("#degradation h2")).to_contain_text("normal")
    assert httpx.get(f"{stack.base_url}/v1/status", timeout=10).json()["mode"] == "normal"
    watched.go(stack.base_url, "/")
    expect(page.locator("#service-status h2")).not_to_contain_text("maintenance")
    watched.assert_no_errors()


def test_a_user_key_sees_no_admin_page_and_no_other_user_s_objects(
    stack: Stack, watched: Watched, made: dict[str, Any]
) -> None:
    page = watched.page
    watched.sign_out()
    watched.sign_in(stack.base_url, made["dave"])
    expect(page.locator("#nav")).not_to_contain_text("Admin")
    watched.go(stack.base_url, "/admin")
    expect(page.locator("#not-admin")).to_be_visible()
    expect(page.locator("#keys")).to_have_count(0)
    watched.go(stack.base_url, f"/jobs/{made['job']}")
    expect(page.locator("main .error")).to_contain_text("No such fine-tuning job")
    watched.go(stack.base_url, f"/datasets/{made['chinese_file']}")
    expect(page.locator("main .error")).to_contain_text("No such file")
    watched.go(stack.base_url, "/datasets")
    expect(page.locator("#file-list")).to_contain_text("No datasets yet")
    watched.go(stack.base_url, "/jobs")
    expect(page.locator("#job-list")).to_contain_text("No fine-tunes yet")
    watched.go(stack.base_url, "/adapters")
    expect(page.locator("#adapter-list")).not_to_contain_text(made["adapter"])
    watched.go(stack.base_url, "/playground")
    expect(page.locator("#pg-model-a option")).not_to_have_count(0)
    options = page.locator("#pg-model-a option").all_inner_texts()
    assert made["adapter"] not in options
    page.set_viewport_size({"width": 420, "height": 760})  # a narrow window
    watched.go(stack.base_url, "/")
    expect(page.locator("#service-status")).to_be_visible()
    watched.shot("overview-narrow")
    page.set_viewport_size({"width": 1100, "height": 760})
    watched.assert_no_errors()
