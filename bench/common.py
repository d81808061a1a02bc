"""Shared pieces of the benchmarks: servers, config, realistic inquiries, filling, figures.

Not a test module. Every benchmark starts its own Dovecot (IMAP + LMTP) and
SMTP relay on 127.0.0.1 with the test suite's classes (``tests.servers``),
so no traffic leaves the machine, and writes its raw figures to
``bench/results/<name>.json``.
"""

from __future__ import annotations

import atexit
import base64
import email.header
import json
import os
import platform
import quopri
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.servers import Dovecot, SmtpRelay  # noqa: E402
from tests.servers.dovecot import DOVECOT  # noqa: E402

USER = "support@example.org"


# -- the machine and the figures ------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, CPU model, memory, Python, Dovecot."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        dovecot = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        dovecot = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "dovecot": dovecot.strip(),
        "kernel": platform.release(),
    }


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    """n, median, p95, min, max of ``values`` (rounded for printing and JSON)."""
    return {
        "n": len(values),
        "median": round(statistics.median(values), 4),
        "p95": round(percentile(values, 0.95), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB: VmHWM of /proc/self/status.

    Not ru_maxrss: on Linux it survives fork and exec, so a child started by a
    parent holding 10,000 messages would report the parent's peak as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def warm_services(config):  # type: ignore[no-untyped-def]
    """The bot's services for ``config`` with everything built once per process ready (templates,
    reply languages, packet PDFs and the catalogue): start-up work no benchmark should time."""
    from bot.packets import PACKET_IDS, build_packets
    from bot.services import build_services

    services = build_services(config)
    services.template_loader()
    services.reply_languages()
    build_packets(config.paths.replies, config.paths.packets, config.organisation.name)
    resolve = services.packet_resolver()
    for lang in ("en", "es"):  # the first reply to ask for a packet reads the catalogue
        for packet_id in PACKET_IDS:
            resolve(lang, packet_id)
    services.warm_up()  # as the worker does when it starts
    return services


def proc_figures(pid: int) -> dict[str, float]:
    """Another process's peak RSS (VmHWM), proportional set size (PSS: shared pages split between
    the processes sharing them, so PSS adds up across processes) and CPU seconds, from /proc."""
    out = {"peak_rss_mb": 0.0, "pss_mb": 0.0, "cpu_seconds": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_mb"] = round(int(line.split()[1]) / 1024, 1)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out["cpu_seconds"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return out


def save(name: str, data: dict[str, Any]) -> Path:
    """Write ``data`` with the machine and the time to ``bench/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {"benchmark": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), **data}
    record.setdefault("machine", machine())
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


# -- servers and config --------------------------------------------------------


@contextmanager
def servers() -> Iterator[tuple[Dovecot, SmtpRelay]]:
    """A fresh Dovecot and an SMTP relay into it, both on loopback; removed at the end."""
    dovecot = Dovecot()
    dovecot.start()
    relay = SmtpRelay(dovecot)
    try:
        relay.start()
        yield dovecot, relay
    finally:
        relay.stop()
        dovecot.close()


def config_dict(
    dovecot: Dovecot, relay: SmtpRelay, workdir: Path, user: str = USER, **sections: Any
) -> dict[str, Any]:
    """The bot's config for these servers: the repository's rules and replies, a temp database."""
    base: dict[str, Any] = {
        "organisation": {
            "name": "ALS Worldwide",
            "address": user,
            "reply_name": "ALS Worldwide support team",
        },
        "imap": dovecot.config_dict(user),
        "smtp": relay.config_dict(),
        "database": {"url": f"sqlite:///{workdir / 'bot.db'}"},
        # Polling slower than any benchmark run: only IDLE (or an explicit fetch) reads mail.
        "schedule": {"fetch_seconds": 300, "send_seconds": 300},
        "screening": {"daily_cap": 3},
        "paths": {
            "rules": str(ROOT / "rules.yaml"),
            "replies": str(ROOT / "replies"),
            "packets": str(workdir / "packets"),
        },
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


def load(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """A validated :class:`bot.config.Config` from a mapping."""
    from bot.config import parse_config

    return parse_config(data, environ={})


def write_config(data: dict[str, Any], path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def workdir(prefix: str) -> Path:
    """A temp dir for one run's database, config and packets; removed when the process ends.

    Set BENCH_KEEP=1 to keep it (the arrival benchmark keeps it when it fails, for the worker's log).
    """
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    atexit.register(_remove, path)
    return path


def _remove(path: Path) -> None:
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


# -- realistic inquiries ---------------------------------------------------------

_FIRST = {
    "en": ["Mary", "John", "Linda", "Robert", "Susan", "David", "Karen", "James", "Nancy", "Paul", "Ruth"],
    "es": ["María", "José", "Carmen", "Juan", "Lucía", "Javier", "Ana", "Miguel", "Rosa", "Pedro", "Elena"],
}
_LAST = {
    "en": ["Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Lewis", "Walker"],
    "es": ["García", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Díaz", "Romero", "Torres", "Ruiz"],
}
_RELATIVE = {
    "en": ["husband", "wife", "father", "mother", "brother", "sister", "son", "daughter", "partner"],
    "es": ["esposo", "esposa", "padre", "madre", "hermano", "hermana", "hijo", "hija", "pareja"],
}
_DOMAINS = ["example.com", "example.net", "mail.example.com", "example.es", "correo.example.es"]

_STORY = {
    "en": [
        "My {rel} was diagnosed with ALS {n} months ago and we are still trying to understand everything.",
        "It started with weakness in the left hand and now the right leg is affected too.",
        "The neurologist at the university hospital confirmed the diagnosis after the EMG in {month}.",
        "We live about two hours from the nearest ALS clinic, so every visit is a long day for us.",
        "Right now my {rel} takes riluzole and sees a physiotherapist regularly.",
        "A friend from our support group told us about your organisation and methylcobalamin.",
        "I have been reading everything I can find online, but a lot of it contradicts itself.",
        "Speech has become slower over the last few weeks and eating takes much longer than before.",
        "We are a family of four and I am the main caregiver while also working part time.",
        "The local doctor is supportive but admits she does not know much about this treatment.",
        "Our family helps with the care, and we are trying to plan the next year.",
        "We try to stay positive and take it one day at a time, which is not always easy.",
        "My {rel} is {age} years old and was very active, hiking every weekend until last year.",
        "We also tried to find a clinical centre nearby but the waiting lists are long.",
        "I keep a diary of symptoms so that we can tell the doctors exactly what changed.",
        "The fatigue is the hardest part at the moment, more than the weakness itself.",
    ],
    "es": [
        "A mi {rel} le diagnosticaron ELA hace {n} meses y todavía estamos intentando entenderlo todo.",
        "Empezó con debilidad en la mano izquierda y ahora también le afecta la pierna derecha.",
        "El neurólogo del hospital confirmó el diagnóstico después del electromiograma en {month}.",
        "Vivimos a dos horas de la unidad de ELA más cercana, así que cada visita es un día largo.",
        "Ahora mismo mi {rel} toma riluzol y va al fisioterapeuta con regularidad.",
        "Una amiga del grupo de apoyo nos habló de su organización y de la metilcobalamina.",
        "He leído todo lo que encuentro en internet, pero mucha información se contradice.",
        "El habla se ha vuelto más lenta en las últimas semanas y comer le cuesta más tiempo que antes.",
        "Somos una familia de cuatro y yo soy la cuidadora principal, además trabajo media jornada.",
        "La doctora de cabecera nos apoya, pero reconoce que no conoce bien este tratamiento.",
        "La familia colabora en los cuidados y estamos tratando de planificar el próximo año.",
        "Intentamos mantenernos positivos y vivir el día a día, aunque no siempre es fácil.",
        "Mi {rel} tiene {age} años y era muy activo, caminaba por la montaña todos los fines de semana.",
        "También buscamos un centro clínico cercano pero las listas de espera son muy largas.",
        "Apunto los síntomas en una libreta para explicar a los médicos exactamente qué ha cambiado.",
        "El cansancio es lo más difícil en este momento, más que la propia debilidad.",
    ],
}
_ASK = {
    "en": {
        "dosage": [
            "What dose is recommended, and is it taken every day?",
            "How many mg per day did the patients in the study receive?",
        ],
        "obtaining": [
            "Where can I get it? Our pharmacy has never heard of it.",
            "Does the doctor need to write a prescription, and can a compounding pharmacy make it?",
        ],
        "administration": [
            "Is it given as an intramuscular injection or under the skin?",
            "Can the injections be done at home, or only at the clinic?",
        ],
        "research": [
            "Could you send me the clinical trial results from Japan?",
            "Which study showed the benefit, and was it a phase 3 trial?",
        ],
        "enrollment": [
            "How do we join the program, and is there a registration form?",
            "My {rel} would like to enroll. What are the steps to sign up?",
        ],
        "precautions": [
            "Is it safe to drink a glass of wine now and then while taking it?",
            "Are there any precautions with alcohol or smoking?",
        ],
        "general_info": [
            "What exactly is it and how does it work?",
            "Is it supposed to help slow down the progression?",
        ],
        "human_contact": [
            "Could someone call me? It would be easier to talk to a person over the phone.",
        ],
        "spanish_materials": [
            "My mother-in-law speaks Spanish only: do you have a Spanish version of the documents?",
        ],
        "urgent": ["He can't breathe properly since this morning and we are scared, what should we do?"],
        "unsubscribe": ["Please remove me from your mailing list, no more emails."],
    },
    "es": {
        "dosage": [
            "¿Qué dosis se recomienda y hay que tomarla todos los días?",
            "¿Cuántos miligramos al día recibieron los pacientes del estudio?",
        ],
        "obtaining": [
            "¿Dónde se puede conseguir? En nuestra farmacia no lo conocen.",
            "¿Hace falta receta médica para comprarlo?",
        ],
        "administration": [
            "¿Se pone con inyección intramuscular o subcutánea?",
            "¿Las inyecciones se pueden poner en casa?",
        ],
        "research": [
            "¿Podrían enviarme los resultados del ensayo clínico de Japón?",
            "¿En qué estudio se vio el beneficio? ¿Era un ensayo de fase 3?",
        ],
        "enrollment": [
            "¿Cómo podemos inscribirnos en el programa?",
            "Mi {rel} quiere participar. ¿Cuáles son los pasos para la inscripción?",
        ],
        "precautions": [
            "¿Puede beber una copa de vino de vez en cuando durante el tratamiento?",
            "¿Hay precauciones con el alcohol o el tabaco?",
        ],
        "general_info": [
            "¿Qué es exactamente y para qué sirve?",
            "¿Ayuda con la progresión de la enfermedad?",
        ],
        "human_contact": ["¿Me pueden llamar por teléfono? Prefiero hablar con una persona."],
        "spanish_materials": ["¿Tienen los documentos en español?"],
        "urgent": ["No puede respirar bien desde esta mañana y tenemos miedo, ¿qué hacemos?"],
        "unsubscribe": ["Por favor, quiero darme de baja de su lista de correo."],
    },
}
# Ordinary questions, weighted as an inquiry mailbox sees them; urgent and unsubscribe are rare.
_TOPIC_WEIGHTS = {
    "dosage": 20,
    "obtaining": 16,
    "administration": 12,
    "research": 10,
    "enrollment": 12,
    "precautions": 8,
    "general_info": 14,
    "human_contact": 4,
    "spanish_materials": 2,
}
_OPEN = {
    "en": ["Hello,", "Dear team,", "Hi there,", "Good morning,", "To whom it may concern,"],
    "es": ["Hola,", "Estimado equipo:", "Buenos días,", "Buenas tardes,", "Hola a todos,"],
}
_CLOSE = {
    "en": ["Thank you so much for your time.", "Any help is appreciated.", "Thanks in advance."],
    "es": ["Muchas gracias por su tiempo.", "Les agradezco cualquier ayuda.", "Gracias de antemano."],
}
_SUBJECT = {
    "en": ["Question about methylcobalamin", "Information please", "ALS and B12", "Help for my {rel}"],
    "es": ["Consulta sobre metilcobalamina", "Información por favor", "ELA y B12", "Consulta por mi {rel}"],
}
_MONTHS = {
    "en": ["January", "March", "May", "July", "September", "November"],
    "es": ["enero", "marzo", "mayo", "julio", "septiembre", "noviembre"],
}


class Inquiries:
    """Deterministic, varied inquiries in English (60%) and Spanish (40%), 1-4 KB.

    Each body tells a little of the person's situation and asks about one
    to three topics of ``rules.yaml``; 1% are urgent, 1% unsubscribe, 4% ask
    nothing a topic covers, 15% carry an HTML alternative, 15% quote an
    earlier message, and ``attachment_share`` (5%) carry a 100 KB file.
    Every sender and Message-ID is unique to ``(seed, index)``.
    """

    def __init__(self, seed: int = 9, attachment_share: float = 0.05, tag: str = "") -> None:
        self.seed, self.attachment_share = seed, attachment_share
        self.tag = tag or f"s{seed}"
        blob = base64.encodebytes(random.Random(seed).randbytes(100 * 1024))
        self._blob64 = blob.replace(b"\n", b"\r\n")

    def __iter__(self) -> Iterator[bytes]:
        i = 0
        while True:
            yield self.make(i)
            i += 1

    def take(self, n: int, start: int = 0) -> list[bytes]:
        return [self.make(i) for i in range(start, start + n)]

    def make(self, i: int) -> bytes:
        rnd = random.Random(self.seed * 1_000_003 + i)
        lang = "en" if rnd.random() < 0.6 else "es"
        fill = {
            "rel": rnd.choice(_RELATIVE[lang]),
            "n": rnd.randint(2, 30),
            "age": rnd.randint(38, 79),
            "month": rnd.choice(_MONTHS[lang]),
        }
        roll = rnd.random()
        if roll < 0.01:
            topics = ["urgent"]
        elif roll < 0.02:
            topics = ["unsubscribe"]
        elif roll < 0.06:
            topics = []
        else:
            names, weights = zip(*_TOPIC_WEIGHTS.items(), strict=True)
            topics = list(dict.fromkeys(rnd.choices(names, weights, k=rnd.choice((1, 1, 2, 2, 3)))))
        first, last = rnd.choice(_FIRST[lang]), rnd.choice(_LAST[lang])
        target = rnd.randint(700, 3300)  # body characters: with headers, 1-4 KB per message
        story = rnd.sample(_STORY[lang], len(_STORY[lang]))
        paras = [rnd.choice(_OPEN[lang]), ""]
        body = [s.format(**fill) for s in story[:2]]
        paras.append(" ".join(body))
        asks = [rnd.choice(_ASK[lang][t]).format(**fill) for t in topics]
        if asks:
            paras += ["", " ".join(asks)]
        more = [s.format(**fill) for s in story[2:]]
        while sum(len(p) for p in paras) < target and more:
            paras += ["", " ".join(more[:3])]
            more = more[3:]
        paras += ["", rnd.choice(_CLOSE[lang]), "", f"{first} {last}"]
        text = "\n".join(_wrap(p) for p in paras) + "\n"
        if rnd.random() < 0.15:  # a reply to an earlier mail from someone else, quoted below
            quoted = "\n".join("> " + ln for ln in _wrap(" ".join(story[-3:]).format(**fill)).splitlines())
            text += f"\nOn Mon, 3 Mar 2025 at 10:12, {rnd.choice(_FIRST['en'])} wrote:\n{quoted}\n"
        address = f"{_ascii(first)}.{_ascii(last)}.{self.tag}.{i}@{rnd.choice(_DOMAINS)}".lower()
        subject = rnd.choice(_SUBJECT[lang]).format(**fill)
        date = format_datetime(datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=i))
        mid = f"<{self.tag}.{i}.{rnd.getrandbits(32):08x}@{address.split('@')[1]}>"
        # Built as bytes, the way mail clients write it (email.message costs 2-3 ms a message).
        headers = [
            f"From: {_q(f'{first} {last}')} <{address}>",
            "To: ALS Worldwide <support@example.org>",
            f"Subject: {_q(subject)}",
            f"Date: {date}",
            f"Message-ID: {mid}",
            "MIME-Version: 1.0",
            f"User-Agent: {rnd.choice(_AGENTS)}",
        ]
        plain = _part("text/plain", text)
        if rnd.random() < 0.15:
            html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
            html_part = _part("text/html", f"<html><body>{html}</body></html>")
            inner = _multipart("alternative", [plain, html_part])
        else:
            inner = plain
        if rnd.random() < self.attachment_share:
            ctype, name = rnd.choice((("application/pdf", "report.pdf"), ("image/jpeg", "scan.jpg")))
            attachment = (
                f'Content-Type: {ctype}; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
                f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'
            ).encode() + self._blob64
            inner = _multipart("mixed", [inner, attachment])
        return "\r\n".join(headers).encode() + b"\r\n" + inner

    @staticmethod
    def message_id(raw: bytes) -> str:
        match = re.search(rb"^Message-ID: (<[^>]+>)", raw, re.M | re.I)
        return match.group(1).decode() if match else ""


_AGENTS = ["Mozilla Thunderbird", "Apple Mail (2.3774)", "Microsoft Outlook 16.0", "Android Mail"]


def _q(text: str) -> str:
    """A header value, RFC 2047-encoded when it is not ASCII."""
    return text if text.isascii() else email.header.Header(text, "utf-8").encode()


def _part(ctype: str, text: str) -> bytes:
    """A text part: 7bit when ASCII, else quoted-printable UTF-8 (as most clients send)."""
    if text.isascii():
        head, body = f"Content-Type: {ctype}; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit", text
    else:
        head = f"Content-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        body = quopri.encodestring(text.encode()).decode("ascii")
    return (head + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode()


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"=_{subtype}_{len(parts)}_{zlib.crc32(parts[0]):08x}"  # the same in every run
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()]
    for part in parts:
        out.append(f"--{boundary}\r\n".encode() + part + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _wrap(text: str, width: int = 76) -> str:
    words, lines, line = text.split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    lines.append(line)
    return "\n".join(lines)


def _ascii(name: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", name) if c.isascii())


# -- filling and reading the mailbox ------------------------------------------------


def fill(
    dovecot: Dovecot, messages: Iterable[bytes], user: str = USER, chunk: int = 500
) -> tuple[int, float]:
    """APPEND ``messages`` to INBOX with MULTIAPPEND (RFC 3502), ``chunk`` per command.

    Returns (count, seconds). One connection; every message unseen.
    """
    count, started = 0, time.perf_counter()
    batch: list[bytes] = []
    with dovecot.imap(user) as client:
        for raw in messages:
            batch.append(raw)
            if len(batch) >= chunk:
                client.multiappend("INBOX", batch)
                count += len(batch)
                batch = []
        if batch:
            client.multiappend("INBOX", batch)
            count += len(batch)
    return count, time.perf_counter() - started


def raw_fetch(dovecot: Dovecot, user: str = USER, batch: int = 100) -> dict[str, float]:
    """The IMAP ceiling: SEARCH then FETCH BODY.PEEK[] of every message in batches, no processing."""
    started = time.perf_counter()
    count = size = 0
    with dovecot.imap(user) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["UID", "1:*"])
        for start in range(0, len(uids), batch):
            data = client.fetch(uids[start : start + batch], [b"BODY.PEEK[]"])
            count += len(data)
            size += sum(len(item[b"BODY[]"]) for item in data.values())
    seconds = time.perf_counter() - started
    return {
        "messages": count,
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 3),
        "msg_per_s": round(count / seconds, 1),
        "batch": batch,
    }


if __name__ == "__main__":  # python bench/common.py DIR [N]: write N generated inquiries as .eml files
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for index, raw in enumerate(Inquiries(seed=9).take(int(sys.argv[2]) if len(sys.argv) > 2 else 300)):
        (target / f"{index:04d}.eml").write_bytes(raw)
