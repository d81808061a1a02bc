"""/healthz and /metrics answer without a login and show no patient data."""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def test_healthz_reports_database_and_rules_without_login(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "rules": "ok"}}


def test_healthz_says_when_the_rules_file_is_broken_but_last_good_rules_stay(
    app: Flask, services, tmp_path: Path
) -> None:
    services.rules.current()
    broken = tmp_path / "rules.yaml"
    broken.write_text("topics: [\n", encoding="utf-8")
    services.rules.path = broken
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and "last good rules live" in body["checks"]["rules"]


def test_metrics_are_prometheus_text_without_login(app: Flask) -> None:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "helpdesk_queue_depth" in text and "helpdesk_messages_sent_total" in text
