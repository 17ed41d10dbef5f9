"""``loragate up`` (and so scripts/up.sh) prints where the console is when it is ready."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import stack
from gateway.settings import Settings


def test_ready_message_names_the_console_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, port=8123)
    with stack.console.capture() as captured:
        stack._print_ready(settings, 1.0)
    text = captured.get()
    assert "console: http://127.0.0.1:8123/ui/" in text
    assert str(tmp_path / "admin.key") in text


def test_no_console_url_when_it_is_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, console={"enabled": False})
    with stack.console.capture() as captured:
        stack._print_ready(settings, 1.0)
    assert "/ui/" not in captured.get()
