"""``loragate keys``: create (secret printed once), list (no secrets), revoke."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gateway.auth.keys import open_key_store
from gateway.cli.main import app
from gateway.settings import Settings

runner = CliRunner()


def test_create_list_and_revoke(tmp_path: Path) -> None:
    env = {"LORAGATE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    args = ["keys", "create", "--name", "team-a", "--rpm", "60", "--tpm", "20000"]
    created = runner.invoke(app, args, env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("lg-")
    assert "shown only once" in created.stderr
    store = open_key_store(Settings(data_dir=tmp_path))
    caller = store.lookup(secret)
    assert caller is not None
    assert (caller.owner, caller.role, caller.rpm, caller.tpm) == ("team-a", "user", 60, 20000)
    admin = runner.invoke(app, ["keys", "create", "--name", "ops", "--admin"], env=env)
    assert admin.exit_code == 0
    assert store.has_active_admin()
    listed = runner.invoke(app, ["keys", "list"], env=env)
    assert listed.exit_code == 0
    assert "team-a" in listed.stdout
    assert "ops" in listed.stdout
    assert secret not in listed.stdout
    key_id = store.list()[0].id
    assert runner.invoke(app, ["keys", "revoke", key_id], env=env).exit_code == 0
    assert store.lookup(secret) is None
    assert "team-a" not in runner.invoke(app, ["keys", "list"], env=env).stdout
    assert "team-a" in runner.invoke(app, ["keys", "list", "--all"], env=env).stdout
    assert runner.invoke(app, ["keys", "revoke", "key-nope"], env=env).exit_code == 1
    store.close()


def test_a_bad_name_is_refused(tmp_path: Path) -> None:
    refused = runner.invoke(
        app, ["keys", "create", "--name", "no spaces"], env={"LORAGATE_DATA_DIR": str(tmp_path)}
    )
    assert refused.exit_code == 1
    assert "name" in refused.stderr
