"""Uploaded audio as a file on disk, for the decoder; removed afterwards whatever happens."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from recognition.engine.audio import AudioDecodeError


@contextlib.contextmanager
def upload_on_disk(upload) -> Iterator[str]:
    """Yield the path of a temporary copy of the upload (Django UploadedFile or file object).

    The copy has no extension: when the content names no format, ffmpeg falls back on the
    extension (random bytes called x.sln decode as raw audio), and the content alone must
    decide what is audio.  Django's own temporary file keeps the extension, so it is copied too.
    """
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


def decode_error_for(exc: AudioDecodeError, *, path: str, name: str) -> str:
    """The decoder's reason, naming the upload instead of the temporary file it was read from."""
    return str(exc).replace(path, name).replace(os.path.basename(path), name)
