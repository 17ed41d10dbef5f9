"""``loragate degrade set|show``: straight in the database, as the operator of the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.protection.modes import Mode
from gateway.protection.switch_store import SwitchStore
from gateway.state.db import StateDatabase

runner = CliRunner()


def test_set_and_show(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORAGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LORAGATE_DATABASE_URL", database_url)
    refused = runner.invoke(app, ["degrade", "set", "maintenance"])
    assert refused.exit_code == 1  # a reason is required
    assert runner.invoke(app, ["degrade", "set", "panic", "--reason", "x"]).exit_code == 2

    done = runner.invoke(app, ["degrade", "set", "base-only", "--reason", "adapters off"])
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["degrade", "set", "normal"]).exit_code == 0

    db = StateDatabase(database_url)  # what the gateway reads
    history = SwitchStore(db).history()
    db.close()
    assert [(s.mode, s.reason) for s in history] == [
        (Mode.NORMAL, ""),
        (Mode.BASE_ONLY, "adapters off"),
    ]
    assert all(s.actor.startswith("cli:") for s in history)

    shown = runner.invoke(app, ["degrade", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.stdout)
    assert view["current"]["mode"] == "normal"
    assert [entry["mode"] for entry in view["history"]] == ["normal", "base-only"]
    table = runner.invoke(app, ["degrade", "show"])
    assert "adapters off" in table.stdout
