"""A throwaway PostgreSQL server on loopback, from Debian's packages.

``initdb`` into a temp dir owned by the ``postgres`` user (PostgreSQL
refuses to run as root), ``postgres`` on a free port with the socket in the
same dir, trust authentication on 127.0.0.1 only. One database per test.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

from tests.servers.dovecot import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} not found: apt-get install postgresql (.ci/run does)")
    return found[-1]


class Postgres:
    """Start with :meth:`start`, make databases with :meth:`new_database`, stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        user = pwd.getpwnam("postgres")
        self._uid, self._gid = user.pw_uid, user.pw_gid

    def _as_postgres(self) -> None:  # preexec_fn: PostgreSQL will not run as root
        os.setgid(self._gid)
        os.setuid(self._uid)

    def start(self, timeout: float = 30.0) -> None:
        os.chown(self.root, self._uid, self._gid)
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            preexec_fn=self._as_postgres,
        )
        log = open(self.root / "postgres.log", "wb")  # noqa: SIM115 - kept open for the server's life
        self._proc = subprocess.Popen(
            [
                _bin("postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=self._as_postgres,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres").close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    raise RuntimeError(
                        (self.root / "postgres.log").read_text(errors="replace")[-2000:]
                    ) from None
                time.sleep(0.2)

    def new_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None
        shutil.rmtree(self.root, ignore_errors=True)
