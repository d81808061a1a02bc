"""The information packets: every PDF builds, says what it must, on every page, and forms are fillable."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.cli import main
from bot.packets import PACKET_IDS, PacketError, build_packets, load_catalogue, packet_file
from bot.packets.build import organisation_note
from bot.packets.catalogue import load_common
from bot.packets.markup import parse_source
from bot.packets.render import render_packet

REPO = Path(__file__).resolve().parent.parent
REPLIES = REPO / "replies"
ORG = "ALS Worldwide"

FACTS: dict[tuple[str, str], list[str]] = {
    ("en", "general_information"): [
        "methylcobalamin", "vitamin B12", "Kaji", "Muscle & Nerve", "1998", "double-blind", "25 mg a day",
        "0.5 mg a day", "14 days", "CMAP", "4 weeks", "Izumi", "2007", "50 mg", "twice a week", "respirator",
        "phase III", "NIH", "April 2010", "cyanocobalamin", "under the tongue", "subcutaneous",
        "intramuscular", "Once a week", "at least one month", "three months", "Hopewell Pharmaceutical",
        "New Jersey",
    ],
    ("es", "general_information"): [
        "metilcobalamina", "vitamina B12", "Kaji", "Muscle & Nerve", "1998", "doble ciego", "25 mg al día",
        "0,5 mg al día", "14 días", "CMAP", "4 semanas", "Izumi", "2007", "50 mg", "dos veces por semana",
        "respirador", "fase III", "NIH", "abril de 2010", "cianocobalamina", "debajo de la lengua",
        "subcutánea", "intramuscular", "Una vez por semana", "al menos un mes", "tres meses",
        "Hopewell Pharmaceutical", "Nueva Jersey",
    ],
    ("en", "prescription_form"): [
        "physician", "Methylcobalamin", "injectable", "25 mg", "Intramuscular", "Once a day",
        "Hopewell Pharmaceutical", "Hopewell, New Jersey", "Signature", "License number",
    ],
    ("es", "prescription_form"): [
        "Formulario de receta", "Metilcobalamina", "inyectable", "25 mg", "intramuscular", "Una vez al día",
        "Hopewell Pharmaceutical", "Hopewell, Nueva Jersey", "Firma", "matrícula",
    ],
    ("en", "participant_profile"): [
        "Sporadic", "Familial", "Limbs", "Bulbar", "riluzole", "Caregiver", "Country",
    ],
    ("es", "participant_profile"): [
        "Esporádica", "Familiar", "extremidades", "Bulbar", "riluzol", "cuidador", "País",
    ],
    ("en", "injection_information"): [
        "25 mg", "intramuscular", "every day", "at least one month", "up to three months", "30 days",
        "alcohol and smoking", "antibiotics", "diabetes", "physician", "trained",
    ],
    ("es", "injection_information"): [
        "25 mg", "intramuscular", "cada día", "al menos un mes", "hasta tres meses", "30 días",
        "alcohol y el tabaco", "antibióticos", "diabetes", "médico", "capacitada",
    ],
    ("en", "baseline_status_report"): [
        "Before starting", "After one month", "After three months", "Right arm", "Left leg", "Speech",
        "Swallowing", "Breathing", "Fatigue", "Weight", "CMAP",
    ],
    ("es", "baseline_status_report"): [
        "Antes de empezar", "Al mes", "A los tres meses", "Brazo y mano derechos", "Pierna y pie izquierdos",
        "Habla", "Deglución", "Respiración", "Cansancio", "Peso", "CMAP",
    ],
}  # fmt: skip

FIELDS = {
    "prescription_form": {
        "patient_name", "patient_dob", "diagnosis", "quantity", "duration", "physician_name",
        "licence_number", "physician_address", "physician_phone", "physician_email", "signature",
        "signature_date",
    },
    "participant_profile": {
        "participant_name", "email", "phone", "country", "language", "diagnosis_date", "type_sporadic",
        "type_familial", "onset_limb", "onset_bulbar", "caregiver_name", "physician_name",
        "current_medications", "consent_contact",
    },
    "baseline_status_report": {
        "date_start", "date_1m", "date_3m", "weight_start", "right_arm_start", "left_arm_1m",
        "right_leg_3m", "left_leg_start", "speech_start", "swallowing_1m", "breathing_3m", "fatigue_start",
        "measures_start", "notes_3m",
    },
}  # fmt: skip
CHECKBOXES = {"type_sporadic", "type_familial", "onset_limb", "onset_bulbar", "consent_contact"}
# The injection sheet must say no more than the organisation's page: no technique, sites or side effects.
NOT_IN_INJECTION_SHEET = [
    "deltoid",
    "thigh",
    "buttock",
    "needle",
    "side effect",
    "deltoides",
    "muslo",
    "aguja",
]


def squash(text: str) -> str:
    """Whitespace collapsed, so phrases wrapped across lines still match."""
    return " ".join(text.split())


def page_texts(data: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    out = tmp_path_factory.mktemp("packets")
    paths = build_packets(REPLIES, out, ORG)
    catalogue = load_catalogue(REPLIES)
    by_id = {
        (lang, pid): out / lang / catalogue.packet(lang, pid).filename
        for lang in ("en", "es")
        for pid in PACKET_IDS
    }
    assert sorted(paths) == sorted(by_id.values())
    return by_id


def test_all_ten_packets_build(built: dict[tuple[str, str], Path]) -> None:
    assert len(built) == 10
    for path in built.values():
        assert path.read_bytes().startswith(b"%PDF-")
    assert built["es", "general_information"].name == "informacion-general.pdf"


@pytest.mark.parametrize(("lang", "packet_id"), sorted(FACTS))
def test_key_facts(built: dict[tuple[str, str], Path], lang: str, packet_id: str) -> None:
    text = " ".join(page_texts(built[lang, packet_id].read_bytes()))
    missing = [fact for fact in FACTS[lang, packet_id] if fact not in text]
    assert not missing, f"{lang}/{packet_id} lacks {missing}"
    if packet_id == "injection_information":
        assert not [w for w in NOT_IN_INJECTION_SHEET if w in text.lower()]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_page_carries_organisation_revision_and_disclaimer(
    built: dict[tuple[str, str], Path], lang: str
) -> None:
    catalogue = load_catalogue(REPLIES)
    common = catalogue.common(lang)
    disclaimer = squash(common.disclaimer.replace("{organisation}", ORG))
    for packet_id in PACKET_IDS:
        source = catalogue.packet(lang, packet_id)
        revised = common.revised_label.format(date=common.format_date(source.revised))
        pages = page_texts(built[lang, packet_id].read_bytes())
        for number, text in enumerate(pages, 1):
            where = f"{lang}/{packet_id} page {number}"
            assert disclaimer in text, where
            assert ORG in text and source.title in text and revised in text, where
            assert common.page_label.format(page=number, pages=len(pages)) in text, where


def test_spanish_keeps_its_accents(built: dict[tuple[str, str], Path]) -> None:
    seen: set[str] = set()
    for packet_id in PACKET_IDS:
        text = " ".join(page_texts(built["es", packet_id].read_bytes()))
        source = (REPLIES / "es" / "packets" / f"{packet_id}.md").read_text(encoding="utf-8")
        wanted = {ch for ch in source.split("---", 2)[2] if ord(ch) > 127}
        assert wanted <= set(text), f"es/{packet_id} lost {wanted - set(text)}"
        seen |= wanted
    assert set("ñáéíóú¿«»") <= seen


def test_base_fonts_print_every_spanish_letter(tmp_path: Path) -> None:
    source = tmp_path / "general_information.md"
    source.write_text(
        "---\ntitle: Prueba\nfilename: prueba.pdf\nrevised: 2026-01-02\n---\n"
        "¡Atención! ¿Qué tal? ñ, á, é, í, ó, ú, ü, Ñ, Á, É, Í, Ó, Ú, Ü\n",
        encoding="utf-8",
    )
    data = render_packet(
        parse_source(source, "general_information", "es"),
        load_common(REPLIES / "es" / "packets" / "_common.yaml"),
        ORG,
    )
    assert "¡Atención! ¿Qué tal? ñ, á, é, í, ó, ú, ü, Ñ, Á, É, Í, Ó, Ú, Ü" in page_texts(data)[0]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("packet_id", PACKET_IDS)
def test_forms_are_fillable(built: dict[tuple[str, str], Path], lang: str, packet_id: str) -> None:
    fields = PdfReader(built[lang, packet_id]).get_fields() or {}
    kinds = {f.name: f.kind for f in load_catalogue(REPLIES).packet(lang, packet_id).fields()}
    assert set(fields) == set(kinds)
    assert FIELDS.get(packet_id, set()) <= set(fields)
    assert CHECKBOXES & set(fields) <= {name for name, kind in kinds.items() if kind == "check"}
    for name, info in fields.items():
        assert info.get("/FT") == ("/Btn" if kinds[name] == "check" else "/Tx"), name


def test_build_is_deterministic(tmp_path: Path, built: dict[tuple[str, str], Path]) -> None:
    again = build_packets(REPLIES, tmp_path, ORG)
    for path in again:
        assert path.read_bytes() == built[path.parent.name, _packet_id(path)].read_bytes(), path
    info = PdfReader(built["en", "general_information"]).metadata
    source = load_catalogue(REPLIES).packet("en", "general_information")
    assert info.creation_date is not None and info.creation_date.date() == source.revised
    assert info.author == ORG


def _packet_id(path: Path) -> str:
    catalogue = load_catalogue(REPLIES)
    return next(p for p in PACKET_IDS if catalogue.packet(path.parent.name, p).filename == path.name)


def test_override_wins(tmp_path: Path) -> None:
    official = tmp_path / "Receta oficial.pdf"
    official.write_bytes(b"%PDF-1.4 the organisation's own file")
    out = tmp_path / "out"
    name, data = packet_file(REPLIES, out, "es", "prescription_form", ORG, {"es/prescription_form": official})
    assert (name, data) == ("Receta oficial.pdf", official.read_bytes())
    assert not out.exists()  # nothing was built for it
    name, data = packet_file(REPLIES, out, "en", "prescription_form", ORG, {"es/prescription_form": official})
    assert name == "prescription-form.pdf" and data.startswith(b"%PDF-") and data != official.read_bytes()
    with pytest.raises(PacketError, match="es/prescription_form"):
        packet_file(
            REPLIES, out, "es", "prescription_form", ORG, {"es/prescription_form": tmp_path / "gone.pdf"}
        )


def test_packet_file_builds_on_demand_and_rebuilds_when_stale(tmp_path: Path) -> None:
    replies = tmp_path / "replies"
    for lang in ("en", "es"):
        shutil.copytree(REPLIES / lang / "packets", replies / lang / "packets")
    out = tmp_path / "out"
    name, first = packet_file(replies, out, "en", "injection_information", ORG)
    built = out / "en" / name
    assert built.read_bytes() == first
    assert packet_file(replies, out, "en", "injection_information", ORG)[1] == first
    # Another organisation name: rebuilt for it.
    renamed = packet_file(replies, out, "en", "injection_information", "ALS Test Org")[1]
    assert "ALS Test Org" in page_texts(renamed)[0]
    # An edited source, newer than the built file: rebuilt with the edit.
    source = replies / "en" / "packets" / "injection_information.md"
    source.write_text(
        source.read_text(encoding="utf-8").replace("Avoid alcohol", "Please avoid alcohol"), encoding="utf-8"
    )
    os.utime(source, (built.stat().st_mtime + 10, built.stat().st_mtime + 10))
    assert "Please avoid alcohol" in " ".join(
        page_texts(packet_file(replies, out, "en", "injection_information", "ALS Test Org")[1])
    )
    with pytest.raises(PacketError):
        packet_file(replies, out, "fr", "injection_information", ORG)
    with pytest.raises(PacketError):
        packet_file(replies, out, "en", "no_such_packet", ORG)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[a: A | 3 inches]", "unknown box option"),
        ("[a: A] [a: B]", "used twice"),
        ("[a: A] [b: B | check]", "separate lines"),
        ("[a: A] and more", "only boxes"),
        ("[a]", "needs a label"),
        ("Smile \U0001f600", "cannot be printed"),
        ("| a | b |\n| c |", "has 1 cells"),
    ],
)
def test_source_mistakes_are_named(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.md"
    path.write_text(f"---\ntitle: T\nfilename: t.pdf\nrevised: 2026-01-01\n---\n{body}\n", encoding="utf-8")
    with pytest.raises(PacketError, match=re.escape(message)) as caught:
        parse_source(path, "general_information", "en")
    assert str(path) in str(caught.value)


def test_catalogue_refuses_missing_packets_and_mismatched_boxes(tmp_path: Path) -> None:
    replies = tmp_path / "replies"
    for lang in ("en", "es"):
        shutil.copytree(REPLIES / lang / "packets", replies / lang / "packets")
    assert load_catalogue(replies).languages() == ("en", "es")
    form = replies / "es" / "packets" / "participant_profile.md"
    form.write_text(form.read_text(encoding="utf-8").replace("[email:", "[correo:"), encoding="utf-8")
    with pytest.raises(PacketError, match="correo"):
        load_catalogue(replies)
    form.unlink()
    with pytest.raises(PacketError, match="participant_profile.md: missing"):
        load_catalogue(replies)


def test_cli_builds_without_a_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for lang in ("en", "es"):
        shutil.copytree(REPLIES / lang / "packets", tmp_path / "replies" / lang / "packets")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_CONFIG", raising=False)
    assert main(["packets", "build", "--out", "pdfs"]) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 10 and all(Path(p).is_file() for p in printed)
    assert Path("pdfs/es/reporte-de-estado-basal.pdf") in map(Path, printed)
    assert main(["packets"]) == 2


def test_a_pdf_built_before_organisation_notes_is_judged_by_its_author(tmp_path: Path) -> None:
    out = tmp_path / "out"
    name, first = packet_file(REPLIES, out, "en", "general_information", ORG)
    built = out / "en" / name
    organisation_note(built).unlink()  # as an older version of the bot left it
    stamp = built.stat().st_mtime_ns
    assert packet_file(REPLIES, out, "en", "general_information", ORG)[1] == first
    assert built.stat().st_mtime_ns == stamp, "a PDF already made for this organisation was rebuilt"
    organisation_note(built).unlink(missing_ok=True)
    renamed = packet_file(REPLIES, out, "en", "general_information", "ALS Test Org")[1]
    assert "ALS Test Org" in page_texts(renamed)[0]
    assert organisation_note(built).read_text(encoding="utf-8") == "ALS Test Org"


def test_serving_built_packets_needs_neither_the_renderer_nor_a_pdf_reader(tmp_path: Path) -> None:
    build_packets(REPLIES, tmp_path, ORG)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.packets import PACKET_IDS, packet_file\n"
        "for lang in ('en', 'es'):\n"
        "    for packet_id in PACKET_IDS:\n"
        f"        packet_file(Path({str(REPLIES)!r}), Path({str(tmp_path)!r}), lang, packet_id, {ORG!r})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('reportlab', 'pypdf')))\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
    # ~20 MB of memory in every process that attaches packets (bench/README.md, memory)
    assert done.stdout.strip() == "[]"
