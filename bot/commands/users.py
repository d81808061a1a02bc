"""``users add|list|passwd``: staff accounts for the web app.

Passwords come from ``--password-file`` (the first line; for scripts) or
are asked for twice without echo. They are stored only as argon2 hashes.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.commands._common import setup_logging
from bot.config import load_config
from bot.store import Store
from bot.store.users import Role, User


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="add, list or change staff accounts for the web app")
    us = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    ap = us.add_parser("add", help="add an account")
    ap.add_argument("name")
    ap.add_argument("--role", choices=[r.value for r in Role], default=Role.STAFF.value)
    ap.add_argument("--password-file", type=Path, help="read the password from this file's first line")
    ap.set_defaults(func=run_add)
    lp = us.add_parser("list", help="list the accounts")
    lp.set_defaults(func=run_list)
    pp = us.add_parser("passwd", help="set a new password for an account")
    pp.add_argument("name")
    pp.add_argument("--password-file", type=Path, help="read the password from this file's first line")
    pp.set_defaults(func=run_passwd)


def _store(args: argparse.Namespace) -> Store:
    # Only the database is needed: no rules or mailbox, so accounts can be made first.
    setup_logging()
    return Store(load_config(getattr(args, "config", None)).database.url)


def read_password(path: Path | None) -> str | None:
    """The new password, from the file or asked twice; None (after saying why) when refused."""
    from bot.web.security import password_problem

    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            print(f"users: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return None
        password = lines[0] if lines else ""
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Same password again: ") != password:
            print("users: the two passwords are not the same", file=sys.stderr)
            return None
    problem = password_problem(password)
    if problem:
        print(f"users: {problem}", file=sys.stderr)
        return None
    return password


def _find(session, name: str) -> User | None:  # type: ignore[no-untyped-def]
    return session.scalar(select(User).where(func.lower(User.username) == name.lower()))


def run_add(args: argparse.Namespace) -> int:
    from bot.web.admin import user_problem
    from bot.web.security import hash_password

    name = args.name.strip().lower()
    problem = user_problem(name, args.role, "x" * 64)
    if problem:
        print(f"users: {problem}", file=sys.stderr)
        return 2
    store = _store(args)
    try:
        with store.session() as s:
            if _find(s, name) is not None:
                print(f"users: there is already an account called {name}", file=sys.stderr)
                return 1
        password = read_password(args.password_file)
        if password is None:
            return 2
        with store.session() as s:
            s.add(User(username=name, role=args.role, password_hash=hash_password(password)))
    finally:
        store.close()
    print(f"users: added {name} ({args.role})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        with store.session() as s:
            accounts = list(s.scalars(select(User).order_by(User.username)))
    finally:
        store.close()
    if not accounts:
        print("users: no accounts yet; add one with: python run.py users add NAME --role admin")
    for u in accounts:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        print(f"{u.username:<30} {u.role:<6} last login: {last}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    from bot.web.security import hash_password

    store = _store(args)
    try:
        with store.session() as s:
            if _find(s, args.name) is None:
                print(f"users: there is no account called {args.name}", file=sys.stderr)
                return 1
        password = read_password(args.password_file)
        if password is None:
            return 2
        with store.session() as s:
            user = _find(s, args.name)
            assert user is not None
            user.password_hash = hash_password(password)
    finally:
        store.close()
    print(f"users: password changed for {args.name}; their other sessions are signed out")
    return 0
