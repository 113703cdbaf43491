"""Uploaded audio as a file on disk, for the decoder; removed afterwards whatever happens."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def upload_on_disk(upload) -> Iterator[str]:
    """Yield a path holding the upload's bytes (Django UploadedFile or any file object)."""
    existing = getattr(upload, "temporary_file_path", None)
    if existing is not None:
        yield existing()
        return
    suffix = Path(getattr(upload, "name", "") or "").suffix[:16]
    handle, path = tempfile.mkstemp(prefix="jamjar-upload-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            if hasattr(upload, "chunks"):
                for chunk in upload.chunks():
                    out.write(chunk)
            else:
                upload.seek(0)
                while block := upload.read(1 << 20):
                    out.write(block)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
