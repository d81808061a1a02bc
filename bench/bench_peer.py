"""The peer: django-helpdesk's email import (``get_email``) on the same backlog and machine.

    python bench/bench_peer.py [--count 1000] [--spec django-helpdesk] [--venv DIR]

Issue #9 cites django-helpdesk's import at "about 30 messages per second" on
2 cores; this measures it here, against the same IMAP ceiling as
``bench_backlog.py``:

1. a virtualenv outside the project (``--venv``, default
   ``/tmp/bench-peer-venv``, reused when present) gets ``pip install
   django-helpdesk`` (and so Django); nothing is installed in the project's
   environment;
2. a fresh Dovecot on loopback (``common.servers``) gets ``--count`` of the
   same generated inquiries as ``bench_backlog.py`` (``common.Inquiries``,
   seed 9) by MULTIAPPEND, and the IMAP ceiling is measured the same way
   (``common.raw_fetch``), plus the ceiling of fetching one message per
   command, which is how django-helpdesk reads;
3. a child process in the virtualenv sets up a minimal Django project
   (sqlite in a temp dir, the apps helpdesk needs, ``migrate``), creates one
   Queue with ``email_box_type="imap"`` on the loopback Dovecot (no SSL; its
   STARTTLS attempt fails and it carries on in clear, as it is written to),
   imports one message of another seed untimed (templates, markdown,
   first queries), then times ``manage.py get_email`` (``call_command``):
   wall and CPU time of that process, tickets, follow-ups, attachments and
   acknowledgements created.

What django-helpdesk does differently from the bot, so read the figures with it:
it FETCHes RFC822 one message per command (marking it seen), stores \\Deleted
and EXPUNGEs every imported message; it keeps every attachment (and the HTML
part) as a file under MEDIA_ROOT; it neither detects language nor matches
topics, and it builds a templated acknowledgement per new ticket (here into
Django's in-memory mail backend: composed, not sent - the bot drafts and
sends later too) with no PDF packets. Django on sqlite commits every save.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Only the parent imports common: the child runs in the virtualenv, without the project's packages.

SETTINGS = """
SECRET_KEY = "bench-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
    "django.contrib.humanize", "rest_framework", "helpdesk",
]
SITE_ID = 1
HELPDESK_TEAMS_MODE_ENABLED = False  # no pinax-teams
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %(db)r,
                         "OPTIONS": {"init_command": %(init)r}}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
MEDIA_ROOT = %(media)r
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages",
                                                 "django.template.context_processors.request"]}}]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "support@example.org"
LOGGING = {"version": 1, "disable_existing_loggers": False}
"""
URLS = 'from django.urls import include, path\nurlpatterns = [path("helpdesk/", include("helpdesk.urls"))]\n'


def ensure_venv(venv: Path, spec: str) -> Path:
    """The virtualenv's python, creating the virtualenv and installing ``spec`` on first use."""
    python = venv / "bin" / "python"
    if not (venv / ".bench-ready").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", spec], check=True)
        (venv / ".bench-ready").write_text(spec + "\n")
    return python


def one_by_one(dovecot: Any, user: str) -> dict[str, float]:
    """The IMAP ceiling for django-helpdesk's access pattern: SEARCH, then one FETCH per message."""
    started, count = time.perf_counter(), 0
    with dovecot.imap(user) as client:
        client.select_folder("INBOX", readonly=True)
        for uid in client.search(["NOT", "DELETED"]):
            count += len(client.fetch([uid], [b"BODY.PEEK[]"]))
    seconds = time.perf_counter() - started
    return {"messages": count, "seconds": round(seconds, 3), "msg_per_s": round(count / seconds, 1)}


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """In the virtualenv: set up Django and helpdesk, warm up, time one ``get_email``."""
    import logging

    work = Path(spec["work"])
    (work / "peer_settings.py").write_text(
        SETTINGS
        % {
            "db": str(work / "helpdesk.db"),
            "media": str(work / "media"),
            "init": f"PRAGMA journal_mode={spec['journal']}",
        }
    )
    (work / "peer_urls.py").write_text(URLS)
    sys.path.insert(0, str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "peer_settings"
    t0 = time.perf_counter()
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from helpdesk.email import extract_email_metadata
    from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket

    levels: dict[str, int] = {}

    class Count(logging.Handler):  # the import's warnings and errors, counted, never printed
        def emit(self, record: logging.LogRecord) -> None:
            levels[record.levelname] = levels.get(record.levelname, 0) + 1

    hd_log = logging.getLogger("django.helpdesk")
    hd_log.addHandler(Count())
    hd_log.propagate = False
    queue = Queue.objects.create(
        title="Support",
        slug="support",
        email_address=spec["user"],
        allow_email_submission=True,
        email_box_type="imap",
        email_box_host="127.0.0.1",
        email_box_port=spec["port"],
        email_box_ssl=False,
        email_box_user=spec["user"],
        email_box_pass=spec["password"],
        email_box_imap_folder="INBOX",
        email_box_interval=0,
        logging_type="warn",  # "none" would drop the errors process_email catches
    )
    # Warm-up, untimed: one message of another seed through the same parser and ticket code.
    warm_raw = Path(spec["warmup"]).read_bytes().decode("utf-8", "replace")
    extract_email_metadata(message=warm_raw, queue=queue, logger=logging.getLogger("django.helpdesk.warm"))
    Ticket.objects.all().delete()
    mail.outbox = []
    levels.clear()
    warm = time.perf_counter() - t0
    rss_warm = peak_rss_mb()

    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    call_command("get_email")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    tickets = Ticket.objects.count()
    media = work / "media"
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "tickets": tickets,
        "msg_per_s": round(tickets / seconds, 1) if seconds else 0.0,
        "cpu_ms_per_msg": round(cpu / tickets * 1000, 2) if tickets else 0.0,
        "followups": FollowUp.objects.count(),
        "attachments": FollowUpAttachment.objects.count(),
        "acknowledgements": len(getattr(mail, "outbox", [])),
        "log_records": levels,
        "loadavg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "warmup_seconds": round(warm, 2),
        "database_mb": round(sum(p.stat().st_size for p in work.glob("helpdesk.db*")) / 1e6, 1),
        "media_mb": round(sum(p.stat().st_size for p in media.rglob("*") if p.is_file()) / 1e6, 1),
        "peak_rss_mb_after_warmup": rss_warm,
        "peak_rss_mb": peak_rss_mb(),
        "versions": {"django": django.get_version(), "helpdesk": _version("django-helpdesk")},
    }


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def run(args: argparse.Namespace, python: Path, journal: str, say: Callable[[str], None]) -> dict[str, Any]:
    """Fill a fresh mailbox, measure both ceilings, run the import in the virtualenv's child."""
    import common

    work = common.workdir("peer")
    result: dict[str, Any] = {"count": args.count, "seed": args.seed, "spec": args.spec, "journal": journal}
    with common.servers() as (dovecot, _relay):
        messages = common.Inquiries(seed=args.seed).take(args.count)
        result["mailbox_mb"] = round(sum(map(len, messages)) / 1e6, 1)
        result["with_attachment"] = sum(1 for m in messages if len(m) > 50_000)
        n, seconds = common.fill(dovecot, messages)
        del messages
        result["fill"] = {"messages": n, "seconds": round(seconds, 2), "msg_per_s": round(n / seconds, 1)}
        say(f"  filled {n} messages in {seconds:.1f} s ({n / seconds:.0f} msg/s, MULTIAPPEND)")
        result["imap_ceiling"] = common.raw_fetch(dovecot, batch=100)
        result["imap_one_by_one"] = one_by_one(dovecot, common.USER)
        say(
            f"  IMAP ceiling: {result['imap_ceiling']['msg_per_s']:.0f} msg/s (FETCH 100 a command); "
            f"{result['imap_one_by_one']['msg_per_s']:.0f} msg/s one FETCH a message"
        )
        (work / "warmup.eml").write_bytes(common.Inquiries(seed=2).make(0))
        spec = {
            "work": str(work),
            "port": dovecot.imap_port,
            "user": common.USER,
            "password": dovecot.password,
            "warmup": str(work / "warmup.eml"),
            "journal": journal,
        }
        (work / "spec.json").write_text(json.dumps(spec))
        cmd = [str(python), __file__, "--child", str(work / "spec.json"), "--out", str(work / "peer.json")]
        subprocess.run(cmd, check=True, cwd=work, env={**os.environ, "PYTHONHASHSEED": "0"})
        d = result["import"] = json.loads((work / "peer.json").read_text())
        with dovecot.imap(common.USER) as client:
            result["left_in_inbox"] = client.select_folder("INBOX", readonly=True)[b"EXISTS"]
    result["ratio_to_ceiling"] = round(d["msg_per_s"] / result["imap_ceiling"]["msg_per_s"], 4)
    say(
        f"  imported {d['tickets']} tickets in {d['seconds']:.1f} s = {d['msg_per_s']:.1f} msg/s "
        f"({result['ratio_to_ceiling']:.2%} of the IMAP ceiling); CPU {d['cpu_ms_per_msg']:.1f} ms a message "
        f"(the importing process; Dovecot apart); warm-up {d['warmup_seconds']:.1f} s; "
        f"peak RSS {d['peak_rss_mb']:.0f} MB (after warm-up {d['peak_rss_mb_after_warmup']:.0f} MB)"
    )
    say(
        f"  follow-ups {d['followups']}, attachments stored {d['attachments']} ({d['media_mb']} MB), "
        f"acknowledgements composed {d['acknowledgements']}, log records {d['log_records']}; "
        f"left in INBOX {result['left_in_inbox']} (imported mail is deleted and expunged); "
        f"database {d['database_mb']} MB; django {d['versions']['django']}, "
        f"django-helpdesk {d['versions']['helpdesk']}"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=9, help="the inquiries' seed (bench_backlog's is 9)")
    parser.add_argument("--spec", default="django-helpdesk", help="what pip installs in the virtualenv")
    parser.add_argument("--venv", default="/tmp/bench-peer-venv", help="the virtualenv (reused if ready)")
    parser.add_argument(
        "--journal",
        default="delete,wal",
        help="sqlite journal modes, each on a fresh mailbox: delete is Django's default, wal the bot's",
    )
    parser.add_argument("--name", default="peer", help="results file name (bench/results/NAME.json, .txt)")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # in the virtualenv
        Path(args.out).write_text(json.dumps(child(json.loads(Path(args.child).read_text()))))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import common

    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=common.ROOT
    ).stdout.strip()
    out: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        out.append(line)

    python = ensure_venv(Path(args.venv), args.spec)
    runs = []
    for journal in args.journal.split(","):
        say(f"django-helpdesk get_email, backlog of {args.count}, sqlite journal_mode={journal}:")
        runs.append(run(args, python, journal, say))
    after = os.getloadavg()
    path = common.save(args.name, {"runs": runs, "loadavg_before_after": [load, after]})
    out.append(f"results: {path.relative_to(common.ROOT)}")
    print(out[-1])
    head = (
        f"== {args.name}: python bench/bench_peer.py --count {args.count} --journal {args.journal} "
        f"({started}, load average {load[0]:.2f} before, {after[0]:.2f} after; at {commit})"
    )
    (common.RESULTS / f"{args.name}.txt").write_text("\n".join([head, *out]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
