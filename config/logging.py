"""Structured (JSON, one object per line) logging with the request id and the Celery task id.

The ids travel in context variables: ``config.middleware.RequestIdMiddleware`` sets the request id for a web
request, the Celery signal handlers below set the task id (and carry the request id of the request that queued
the task in a message header). ``JsonFormatter`` never writes raw bytes (an image would otherwise end up in the
log) and masks anything that looks like a credential.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import traceback
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("atelier_request_id", default=None)
task_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("atelier_task_id", default=None)

REQUEST_ID_HEADER = "atelier_request_id"
# Longest message written as is; longer ones are cut (a pasted payload should not flood the log).
MAX_MESSAGE_CHARS = 4000

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is written as a field.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)
# Objects Django passes in ``extra`` that must never be serialised (they carry bodies, cookies, headers).
_DROPPED_EXTRA = frozenset({"request", "response", "server_time"})
_SECRET_PATTERNS = [
    # Authorization headers, scheme included ("Authorization: Token abc…").
    re.compile(
        r"(?i)(?P<key>[\"']?authorization[\"']?\s*[:=]\s*[\"']?)(?P<value>(?:(?:token|bearer|basic)\s+)?[^\s\"',;&]+)"
    ),
    # key=value / "key": "value" pairs whose key names a credential.
    re.compile(
        r"(?i)(?P<key>[\"']?(?:password|passwd|secret|token|api[_-]?key|sessionid|csrftoken)"
        r"[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;&]+)"
    ),
    # Bare authorization values.
    re.compile(r"(?i)(?P<key>\b(?:token|bearer|basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]{20,})"),
    # Passwords inside URLs: scheme://user:password@host.
    re.compile(r"(?P<key>[a-z][a-z0-9+.-]*://[^:/\s@]+:)(?P<value>[^@\s/]+)(?=@)"),
]


def redact(text: str) -> str:
    """Mask credential-looking values in ``text``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: f"{match.group('key')}***", text)
    return text


def _safe_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_safe_value(item) for item in value[:50]]
    if isinstance(value, dict):
        return {str(key): _safe_value(item) for key, item in list(value.items())[:50]}
    return str(value)


def _message(record: logging.LogRecord) -> str:
    args = record.args
    if isinstance(args, tuple):
        args = tuple(f"<{len(a)} bytes>" if isinstance(a, (bytes, bytearray, memoryview)) else a for a in args)
    elif isinstance(args, dict):
        args = {k: f"<{len(v)} bytes>" if isinstance(v, (bytes, bytearray, memoryview)) else v for k, v in args.items()}
    msg = record.msg
    if isinstance(msg, (bytes, bytearray, memoryview)):
        msg = f"<{len(msg)} bytes>"
    try:
        text = str(msg) % args if args else str(msg)
    except (TypeError, ValueError):
        text = f"{msg} {args!r}"
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + f"… ({len(text) - MAX_MESSAGE_CHARS} more characters cut)"
    return redact(text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, task_id, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        task_id = getattr(record, "task_id", None) or task_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        if task_id:
            entry["task_id"] = task_id
        for key, value in record.__dict__.items():
            if (
                key in _RECORD_ATTRIBUTES
                or key in _DROPPED_EXTRA
                or key in ("request_id", "task_id")
                or key in entry
                or key.startswith("_")
            ):
                continue
            entry[key] = _safe_value(value)
        if record.exc_info:
            entry["exception"] = redact("".join(traceback.format_exception(*record.exc_info))[-8000:])
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- Celery plumbing ------------------------------------------------------------------------------------------
def _before_task_publish(headers: dict | None = None, **_: Any) -> None:
    # Carry the id of the web request that queued the task, so one upload can be followed into the worker.
    request_id = request_id_var.get()
    if headers is not None and request_id:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _task_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    task_id_var.set(task_id)
    request = getattr(task, "request", None)
    request_id = None
    if request is not None:
        # Celery exposes custom message headers as request attributes (protocol 2) or under ``headers``.
        request_id = getattr(request, REQUEST_ID_HEADER, None) or (getattr(request, "headers", None) or {}).get(
            REQUEST_ID_HEADER
        )
    request_id_var.set(request_id)


def _task_postrun(**_: Any) -> None:
    task_id_var.set(None)
    request_id_var.set(None)


def connect_celery_signals() -> None:
    """Wire the task id / request id propagation into Celery (called once by ``config.celery_app``)."""
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, weak=False, dispatch_uid="atelier_log_publish")
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="atelier_log_prerun")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="atelier_log_postrun")


_base_record_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Stamp the ids when the record is made: handlers may format it later, outside the request's context.
    record = _base_record_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    record.task_id = task_id_var.get()
    return record


def logging_config(*, level: str, json_format: bool) -> dict[str, Any]:
    """The ``LOGGING`` dict for settings: JSON lines to stderr (or plain text for a developer's terminal).

    Also installs the record factory that stamps request and task ids on every record.
    """
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json" if json_format else "plain"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The access line of config.middleware replaces django.server's/gunicorn's unstructured one.
            "django.server": {"level": "WARNING"},
        },
    }
