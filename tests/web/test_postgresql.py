"""The web app's queries on PostgreSQL: ordering, the JSON topic filter, counts, neighbours, overview.

The same pages as the SQLite tests, on a throwaway PostgreSQL server
(tests/servers/postgres.py), so nothing in the web app relies on SQLite's
leniency (booleans, JSON as text, naive datetimes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import LiveRules, Services
from bot.store import Inquiry, Store
from bot.web import create_app
from tests.web.conftest import act, add_inquiry, login, web_config
from tests.web.test_queue_page import ids_on


@pytest.fixture
def pg_client(postgres_server, tmp_path: Path, make_user_pg) -> Iterator[tuple[object, Services]]:
    config = web_config(tmp_path, database_url=postgres_server.new_database())
    services = Services(config=config, store=Store(config.database.url), rules=LiveRules(config.paths.rules))
    make_user_pg(services, "sam")
    app = create_app(config, services, settings={"SECRET_KEY_FILE": str(tmp_path / "key")})
    client = app.test_client()
    assert login(client, "sam").status_code == 302
    yield client, services
    services.close()


@pytest.fixture
def make_user_pg():
    from bot.store.users import User
    from bot.web.security import hash_password
    from tests.web.conftest import PASSWORD

    def make(services: Services, name: str) -> None:
        with services.store.session() as s:
            s.add(User(username=name, role="staff", password_hash=hash_password(PASSWORD)))

    return make


def test_queue_order_filters_and_counts_on_postgresql(pg_client) -> None:
    client, services = pg_client
    now = datetime.now(UTC)
    old = add_inquiry(services, received_at=now - timedelta(days=3), topics=["dosage", "obtaining"])
    new = add_inquiry(services, received_at=now - timedelta(days=1), language="es", topics=["dose"])
    urgent = add_inquiry(services, state="escalated", urgent=True, received_at=now, topics=["urgent"])
    done = add_inquiry(services, state="answered", received_at=now - timedelta(days=5))
    two_days = now - timedelta(days=2)
    failed = add_inquiry(services, state="approved", reply_state="failed", received_at=two_days)
    html = client.get("/queue").get_data(as_text=True)
    assert ids_on(html) == [urgent, old, failed, new]
    assert re.search(r'Everything <span class="count">(\d+)</span>', html).group(1) == "5"
    assert ids_on(client.get("/queue?state=all&topic=dosage").get_data(as_text=True)) == [done, old, failed]
    assert ids_on(client.get("/queue?state=all&topic=dose").get_data(as_text=True)) == [new]
    assert ids_on(client.get("/queue?state=all&language=es").get_data(as_text=True)) == [new]
    assert ids_on(client.get("/queue?state=failed").get_data(as_text=True)) == [failed]
    assert ids_on(client.get("/queue?state=answered").get_data(as_text=True)) == [done]
    page = client.get(f"/inquiry/{old}").get_data(as_text=True)
    assert f'rel="prev" href="/inquiry/{urgent}"' in page and f'rel="next" href="/inquiry/{failed}"' in page
    assert "Earlier messages from this sender" in page
    assert client.get("/overview").status_code == 200


def test_actions_on_postgresql(pg_client) -> None:
    client, services = pg_client
    first = add_inquiry(services)
    second = add_inquiry(services)
    assert act(client, first, "approve").headers["Location"] == f"/inquiry/{second}"
    act(client, second, "reject", {"reason": "spam"})
    with services.store.session() as s:
        assert [i.state for i in s.scalars(select(Inquiry).order_by(Inquiry.id))] == ["approved", "rejected"]
    assert "spam" in client.get(f"/inquiry/{second}").get_data(as_text=True)
