"""Write a generated model folder all at once, with a marker recording what made it.

Both test models (``default_model``, ``qwen2_model``) are built by code from a seed; the marker
file holds that recipe, so a folder is rebuilt only when it is missing, half-written or made
from another recipe.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

MARKER_FILE = "loragate_model.json"


def is_complete(path: Path, recipe: Mapping[str, Any]) -> bool:
    """True when ``path`` holds a finished model folder made from ``recipe``."""
    marker = path / MARKER_FILE
    if not marker.is_file():
        return False
    return bool(json.loads(marker.read_text()) == dict(recipe))


def ensure_model_folder(
    path: Path, recipe: Mapping[str, Any], build: Callable[[Path], None]
) -> Path:
    """Run ``build(folder)`` unless ``path`` is already complete for ``recipe``; return ``path``."""
    if is_complete(path, recipe):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Build in a sibling temp folder and rename: a crash never leaves a half-written model.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=path.parent))
    try:
        build(staging)
        (staging / MARKER_FILE).write_text(json.dumps(dict(recipe), indent=2))
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return path
