"""The raw archive: every received mail stored byte-for-byte before it is processed.

Files are content-addressed (sha256), so writing the same mail twice is a
no-op and a crash between writing and recording loses nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def digest(raw: bytes) -> str:
    """The sha256 hex digest that names a mail in the archive and the database."""
    return hashlib.sha256(raw).hexdigest()


class Archive:
    """A folder of `ab/abcdef….eml` files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha: str, suffix: str = ".eml") -> Path:
        """Where the object with this digest lives."""
        return self.root / sha[:2] / f"{sha}{suffix}"

    def put(self, raw: bytes, suffix: str = ".eml") -> tuple[str, Path]:
        """Store `raw` durably (fsync) and return its digest and path; idempotent."""
        sha = digest(raw)
        path = self.path_for(sha, suffix)
        if path.exists() and path.stat().st_size == len(raw):
            return sha, path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return sha, path

    def put_file(self, source: Path, *, move: bool) -> tuple[str, Path]:
        """Store a large message from a file without reading it into memory; idempotent.

        `move` renames a temporary spool file into place; otherwise the file is copied.
        """
        h = hashlib.sha256()
        with open(source, "rb") as fh:
            for block in iter(lambda: fh.read(1024 * 1024), b""):
                h.update(block)
        sha = h.hexdigest()
        path = self.path_for(sha)
        if path.exists():
            if move:
                source.unlink(missing_ok=True)
            return sha, path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if move:
            os.replace(source, tmp)
        else:
            shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return sha, path

    def get(self, sha: str, suffix: str = ".eml") -> bytes:
        """The stored bytes for a digest."""
        return self.path_for(sha, suffix).read_bytes()
