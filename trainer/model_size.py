"""A model's parameter count, read from its safetensors headers (no torch, no weights read)."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

HEADER_LIMIT = 100 * 1024 * 1024


def parameter_count(model_dir: str | Path) -> int | None:
    """The number of parameters in the folder's ``*.safetensors`` files; None when there are
    none or a header is unreadable."""
    files = sorted(Path(model_dir).glob("*.safetensors"))
    if not files:
        return None
    try:
        return sum(_count(path) for path in files)
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None


def _count(path: Path) -> int:
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > HEADER_LIMIT:
            raise ValueError(f"{path}: implausible safetensors header of {length} bytes")
        header = json.loads(handle.read(length))
    return sum(
        math.prod(entry["shape"]) for name, entry in header.items() if name != "__metadata__"
    )
