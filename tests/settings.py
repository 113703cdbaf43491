"""Settings for the test suite: the project's settings with a test key and a file-backed SQLite test database.

The file lets subprocesses (the kill-and-resume test) see the same test database.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-suite-only-key")
# A developer's .env (scripts/run) must not steer the suite or the servers it starts.
os.environ["JAMJAR_ENV_FILE"] = ""

from jamjar_site.settings import *
from jamjar_site.settings import DATABASES

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"jamjar-test-{os.getpid()}.sqlite3")
    }

MEDIA_ROOT = tempfile.mkdtemp(prefix="jamjar-test-media-")
STATIC_ROOT = tempfile.mkdtemp(prefix="jamjar-test-static-")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
