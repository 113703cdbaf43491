"""Uploaded audio as a file on disk, for the decoder; removed afterwards whatever happens."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def upload_on_disk(upload) -> Iterator[str]:
    """Yield a path holding the upload's bytes (Django UploadedFile or any file object)."""
    existing = getattr(upload, "temporary_file_path", None)
    if existing is not None:
        yield existing()
        return
    # No extension: ffmpeg would take it as a hint, and the content alone must decide
    # what is audio (random bytes named .sln decode as "audio").
    handle, path = tempfile.mkstemp(prefix="jamjar-upload-")
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
