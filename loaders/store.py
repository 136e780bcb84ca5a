"""The local store of the City's imported datasets, with an import log and one-step undo.

Layout under `store_dir()` (ESS_STORE overrides):

    CURRENT                  one line: the name of the version in use
    versions/<version>/      structures.parquet, grants.parquet, land.parquet (those imported),
                             meta.json ({kind: {file, sha256, imported_at, rows}}, parent) and
                             log.json (the imports that led to this state)
    mappings/                saved column mappings (loaders/mapping.py)

Every write builds a complete new version in a temporary directory, renames it into `versions/`
and only then switches `CURRENT` with os.replace. A crash at any point before that switch leaves
the previous version in use, untouched. Undo switches `CURRENT` back to the parent version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from loaders.config import store_dir

KINDS = ("structures", "grants", "land")
KEEP_VERSIONS = 20  # depth of the undo history kept on disk
_POINTER = "CURRENT"


class StoreError(RuntimeError):
    """The store cannot be written (message in French)."""


def _root() -> Path:
    return store_dir()


def _versions() -> Path:
    path = _root() / "versions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _current_name() -> str | None:
    pointer = _root() / _POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and (_versions() / name).is_dir() else None


def _current_dir() -> Path | None:
    name = _current_name()
    return _versions() / name if name else None


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"type de données inconnu : « {kind} » (attendu : {', '.join(KINDS)})")


@contextlib.contextmanager
def _lock():
    """Serialise writers (two browser sessions importing at once) where the OS allows it."""
    try:
        import fcntl
    except ImportError:  # Windows: a single writer is assumed
        yield
        return
    with open(_root() / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_kind(kind: str) -> pd.DataFrame | None:
    """The accepted rows currently stored for `kind`, canonical columns; None if never imported."""
    _check_kind(kind)
    current = _current_dir()
    if current is None or not (current / f"{kind}.parquet").is_file():
        return None
    return pd.read_parquet(current / f"{kind}.parquet")


def store_meta() -> dict:
    """{kind: {"file", "sha256", "imported_at", "rows"}} for each kind present in the store."""
    current = _current_dir()
    if current is None:
        return {}
    return _read_json(current / "meta.json", {}).get("kinds", {})


def import_log() -> list[dict]:
    """The imports that led to the current state, oldest first."""
    current = _current_dir()
    return [] if current is None else _read_json(current / "log.json", [])


def write_import(kind: str, accepted: pd.DataFrame, log_entry: dict) -> None:
    """Store `accepted` as the new `kind` dataset, atomically, and append `log_entry` to the log.

    `log_entry` should hold file, sha256, read, accepted, rejected; kind, imported_at and rows are
    filled in when missing.
    """
    _check_kind(kind)
    entry = dict(log_entry)
    entry.setdefault("kind", kind)
    entry.setdefault("imported_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    entry.setdefault("rows", len(accepted))
    with _lock():
        parent = _current_dir()
        name = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
        tmp = _versions() / f".tmp-{name}"
        tmp.mkdir()
        try:
            for other in KINDS:
                source = parent / f"{other}.parquet" if parent else None
                if other == kind:
                    _write_parquet(accepted.reset_index(drop=True), tmp / f"{kind}.parquet")
                elif source is not None and source.is_file():
                    shutil.copy2(source, tmp / f"{other}.parquet")
            meta = _read_json(parent / "meta.json", {}) if parent else {}
            kinds = dict(meta.get("kinds", {}))
            kinds[kind] = {
                "file": entry.get("file"),
                "sha256": entry.get("sha256"),
                "imported_at": entry["imported_at"],
                "rows": int(entry["rows"]),
            }
            meta = {"parent": parent.name if parent else None, "kinds": kinds}
            _write_json(tmp / "meta.json", meta)
            log = _read_json(parent / "log.json", []) if parent else []
            _write_json(tmp / "log.json", [*log, entry])
            final = _versions() / name
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _switch(name)
        _prune()


def _switch(name: str) -> None:
    """Point CURRENT at `name` in one atomic os.replace."""
    pointer = _root() / _POINTER
    tmp = _root() / f".{_POINTER}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, pointer)


def undo_last() -> dict | None:
    """Go back to the state before the last import; return its log entry (None: nothing to undo)."""
    with _lock():
        current = _current_dir()
        if current is None:
            return None
        log = _read_json(current / "log.json", [])
        parent = _read_json(current / "meta.json", {}).get("parent")
        if not log:
            return None
        if parent and (_versions() / parent).is_dir():
            _switch(parent)
        else:
            # First import (or history pruned away): undo means "nothing imported".
            (_root() / _POINTER).unlink(missing_ok=True)
        return log[-1]


def _prune() -> None:
    """Keep the current version and its KEEP_VERSIONS ancestors; drop the rest and leftovers."""
    keep: set[str] = set()
    name = _current_name()
    while name and len(keep) <= KEEP_VERSIONS:
        keep.add(name)
        name = _read_json(_versions() / name / "meta.json", {}).get("parent")
    for path in _versions().iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for stray in _root().glob(f".{_POINTER}.*"):
        stray.unlink(missing_ok=True)
