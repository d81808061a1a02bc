"""``/healthz`` and ``/metrics``: for the service manager and for monitoring, no login.

Neither shows anything about a patient: health says whether the database
answers and the rules are loaded; metrics are counts (see bot/metrics.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.metrics import registry_for
from bot.web.common import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """200 with ``{"status": "ok"}`` when the database answers and the rules are loaded, else 503."""
    svc = services()
    checks: dict[str, str] = {}
    try:
        with svc.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        svc.rules.current()
        checks["rules"] = (
            "ok" if svc.rules.last_error is None else "last good rules live; the file has errors"
        )
    except Exception as exc:  # noqa: BLE001
        checks["rules"] = f"error: {type(exc).__name__}"
    healthy = checks["database"] == "ok" and not checks["rules"].startswith("error")
    body = jsonify(status="ok" if healthy else "unhealthy", checks=checks)
    return body, 200 if healthy else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; keep it behind the reverse proxy's allow-list (config/nginx-helpdesk.conf)."""
    registry = registry_for(services().store)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
