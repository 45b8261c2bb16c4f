"""Logs as JSON lines in production, without message text or personal data.

Almia's own log calls never carry message text (a rule of the code base); this formatter
adds what a log pipeline needs (time, level, logger, process) and, for an exception, its
type and the code locations of the traceback but not the exception's message, which could
quote data. HTTP access lines name the route template (``/api/jobs/{job_id}``), never the
path or query string (ids, ``?user=…``).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

_ACCESS = logging.getLogger("almia.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in ("route", "method", "status", "duration_ms"):
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])
            entry["stack"] = [f"{Path(frame.filename).name}:{frame.lineno}:{frame.name}"
                              for frame in frames[-15:]]
        return json.dumps(entry, ensure_ascii=False)


def wants_json(log_format: str, production: bool) -> bool:
    """``json``, ``text``, or ``auto`` (JSON in production)."""
    return log_format == "json" or (log_format == "auto" and production)


def configure(level: str, *, json_lines: bool) -> None:
    """The root logger: JSON lines or the readable text format, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def route_of(request: BaseRequest) -> str:
    """The route template that matched (bounded: no ids), or ``unmatched``."""
    if isinstance(request, web.Request):
        resource = request.match_info.route.resource
        if resource is not None:
            return resource.canonical
    return "unmatched"


class RouteAccessLogger(AbstractAccessLogger):
    """aiohttp access lines with the route template, status and duration only."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        """One line per request, at DEBUG for probes and metrics scrapes."""
        route = route_of(request)
        level = logging.DEBUG if route in {"/healthz", "/readyz", "/metrics"} else logging.INFO
        _ACCESS.log(level, "%s %s %s %.1f ms", request.method, route, response.status,
                    time * 1000, extra={"route": route, "method": request.method,
                                        "status": response.status,
                                        "duration_ms": round(time * 1000, 1)})

    @property
    def enabled(self) -> bool:
        """Skip the work when nobody listens."""
        return _ACCESS.isEnabledFor(logging.INFO)
