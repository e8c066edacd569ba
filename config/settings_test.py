"""The test override: fast hashing, tasks in-process, hub access off. Services still come from the environment."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run tasks in-process; integration tests that start a real worker switch this off themselves.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
