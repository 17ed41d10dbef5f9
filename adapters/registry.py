"""The adapter registry: one folder per adapter under the registry root.

Each folder is exactly what vLLM loads (``adapter_config.json``,
``adapter_model.safetensors``) plus ``loragate_adapter.json``, the record. Folders appear
by an atomic rename, so a reader (any gateway worker or replica on the same volume) sees an
adapter whole or not at all, and a crash mid-publish leaves only a staging folder behind.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from adapters.record import RECORD_FILE, AdapterRecord

STAGING_PREFIX = ".staging-"


class AdapterNotFound(KeyError):
    pass


def folder_name(name: str) -> str:
    """A file-system-safe folder name for an adapter name (``ft:a:b:c`` -> ``ft--a--b--c``)."""
    return name.replace("/", "_").replace(":", "--")


class AdapterRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, AdapterRecord] = {}
        self._cache_key: tuple[int, int] | None = None

    def publish(self, source_dir: Path, record: AdapterRecord) -> AdapterRecord:
        """Copy the adapter in ``source_dir`` into the registry under ``record.name``."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / folder_name(record.name)
        if final.exists():
            raise FileExistsError(f"adapter {record.name} is already published")
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        try:
            for item in ("adapter_config.json", "adapter_model.safetensors"):
                shutil.copy2(source_dir / item, staging / item)
            published = record.model_copy(update={"artifact_dir": str(final)})
            (staging / RECORD_FILE).write_text(published.model_dump_json(indent=2))
            staging.chmod(0o755)
            staging.rename(final)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return published

    def list(self) -> list[AdapterRecord]:
        """All published adapters, oldest first (re-read only when the folder changed)."""
        if not self.root.is_dir():
            return []
        stat = self.root.stat()
        key = (stat.st_mtime_ns, stat.st_nlink)
        if key != self._cache_key:
            self._cache = self._scan()
            self._cache_key = key
        return sorted(self._cache.values(), key=lambda record: record.created_at)

    def get(self, name: str) -> AdapterRecord:
        for record in self.list():
            if record.name == name:
                return record
        raise AdapterNotFound(name)

    def delete(self, name: str) -> AdapterRecord:
        record = self.get(name)
        folder = Path(record.artifact_dir)
        trash = folder.with_name(f"{STAGING_PREFIX}deleted-{folder.name}")
        folder.rename(trash)  # atomic: readers stop seeing it at once
        shutil.rmtree(trash, ignore_errors=True)
        return record

    def _scan(self) -> dict[str, AdapterRecord]:
        records = {}
        for folder in self.root.iterdir():
            record_file = folder / RECORD_FILE
            if folder.name.startswith(STAGING_PREFIX) or not record_file.is_file():
                continue
            record = AdapterRecord.model_validate_json(record_file.read_text())
            records[record.name] = record.model_copy(update={"artifact_dir": str(folder)})
        return records
