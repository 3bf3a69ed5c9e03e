"""Printed partner ledgers (SPEC §7), read back from the PDF with pypdf as a reader would see them."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
import unicodedata
import weakref
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import arabic_reshaper.letters
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from bot.cli import main
from commands import pdf_ledgers, printing
from commands.pdf_fonts import BOLD, REGULAR, PageText, family, load_font, visual_order
from commands.pdf_joining import PdfJoiner, UnexpectedPdf
from commands.pdf_ledgers import PART_PAGES, BatchStamp, PageSlice, paginate, write_ledgers_pdf
from commands.printing import report_ledgers_pdf
from domain import batches
from domain.dates import DateRange
from domain.ledger import ledger_report
from domain.ledger_data import LedgerLine, PartnerLedger
from tests.factories import add_entry, add_partner

REPOSITORY = Path(__file__).resolve().parents[1]
JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
NAMES = {
    "LAT": "Zoë Ångström-Nuñez",
    "GRE": "Αλέξανδρος Παπαδόπουλος",
    "CYR": "Дмитрий Иванов",
    "ARA": "محمد الأحمد",
    "CHI": "王小明",
    "JPN": "山田 太郎",
    "KOR": "김민준",
}


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def print_report(database, period: DateRange = JUNE, paper: str = "letter") -> tuple[int, bytes]:
    out = io.BytesIO()
    with database.read() as session:
        report = ledger_report(session, period)
        pages = report_ledgers_pdf(session, period, [row.partner_id for row in report.rows], out,
                                   organisation="Acme Referrals", paper=paper)
    return pages, out.getvalue()


@pytest.fixture
def partners_of_every_script(sqlite_db):
    with sqlite_db.write() as s:
        for code, name in NAMES.items():
            partner = add_partner(s, code, name, email=f"{code.lower()}@example.com")
            add_entry(s, partner, "commission", 50_000, "2015-05-20")
            add_entry(s, partner, "commission", 123_450, "2015-06-10", description="June orders")
            add_entry(s, partner, "clawback", 2_500, "2015-06-12", description="Refund")
    return sqlite_db


def test_every_partner_gets_a_page_with_organisation_name_code_email_and_range(db):
    with db.write() as s:
        for code in ("ANN", "BOB"):
            add_entry(s, add_partner(s, code, f"Partner {code}", email=f"{code}@example.com"), "commission", 1_000,
                      "2015-06-03")
    pages, data = print_report(db)
    texts = pages_text(data)
    assert pages == len(texts) == 2
    for text, code in zip(texts, ("ANN", "BOB"), strict=True):
        assert "Acme Referrals" in text and f"Partner {code}" in text
        assert f"Code: {code}" in text and f"{code}@example.com" in text
        assert "Range: 2015-06-01 to 2015-06-30" in text


def test_a_page_shows_beginning_balance_every_entry_with_running_balance_totals_and_ending_balance(sqlite_db):
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        add_entry(s, ann, "commission", 10_000, "2015-05-02")
        add_entry(s, ann, "commission", 123_450, "2015-06-10", reference="ORD-1", description="June orders")
        add_entry(s, ann, "clawback", 2_500, "2015-06-12", reference="REF-9", description="Refund")
        add_entry(s, ann, "payment", 50_000, "2015-06-20", reference="CHK-1")
    _, data = print_report(sqlite_db)
    lines = pages_text(data)[0].splitlines()
    for expected in (
        "Beginning balance (before 2015-06-01) $100.00",
        "2015-06-10 Commission ORD-1 June orders $1,234.50 $1,334.50",
        "2015-06-12 Clawback REF-9 Refund -$25.00 $1,309.50",
        "2015-06-20 Payment CHK-1 -$500.00 $809.50",
        "Commissions in range $1,234.50",
        "Clawbacks in range $25.00",
        "Payments in range $500.00",
        "Ending balance (2015-06-30) $809.50",
    ):
        assert expected in lines


def test_amounts_are_currency_formatted_in_the_partners_currency(sqlite_db):
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "EUR", "Euro", currency="EUR"), "commission", 1_234_567, "2015-06-03")
        add_entry(s, add_partner(s, "JPY", "Yen", currency="JPY"), "commission", 15_000, "2015-06-03")
        add_entry(s, add_partner(s, "KWD", "Dinar", currency="KWD"), "commission", 1_234_500, "2015-06-03")
    _, data = print_report(sqlite_db)
    euro, yen, dinar = pages_text(data)
    assert "€12,345.67" in euro and "¥15,000" in yen and "KWD 1,234.500" in dinar


def test_right_aligned_amounts_end_at_the_same_x_whatever_their_length():
    out = io.BytesIO()
    canvas = Canvas(out)
    page = PageText(canvas)
    amounts = ["$5.00", "-$1,234.50", "$123,456,789.00", "¥15,000"]
    for number, amount in enumerate(amounts):
        page.write(family(), 400, 700 - 14 * number, amount, 9, align="right")
    page.finish()
    canvas.save()
    content = ContentStream(PdfReader(io.BytesIO(out.getvalue())).pages[0].get_contents(), None)
    origins = [float(operands[4]) for operands, operator in content.operations if operator == b"Tm"]
    starts = origins[-len(amounts):]  # a text object opens with a Tm of its own at the page's origin
    ends = {round(x + pdfmetrics.stringWidth(amount, family().primary, 9), 3) for x, amount in zip(
        starts, amounts, strict=True)}
    assert ends == {400.0}


def test_greek_cyrillic_and_accented_latin_names_read_back_as_written(partners_of_every_script):
    _, data = print_report(partners_of_every_script)
    text = "\n".join(pages_text(data))
    for code in ("LAT", "GRE", "CYR"):
        assert NAMES[code] in text


def test_chinese_japanese_and_korean_names_read_back_as_written(partners_of_every_script):
    _, data = print_report(partners_of_every_script)
    text = "\n".join(pages_text(data))
    for code in ("CHI", "JPN", "KOR"):
        assert NAMES[code] in text


def test_an_arabic_name_is_printed_joined_and_reads_back_as_the_name(partners_of_every_script):
    """Arabic is drawn as contextual presentation forms (U+FB50–U+FEFF), already joined, in visual order.

    A PDF stores the glyphs' characters, so extraction cannot return the plain letters: pypdf
    puts right-to-left runs back in logical order and returns those presentation forms. NFKC
    folds each form to its letter (and the lam-alef ligature to its two letters), which gives the
    name as it was entered. The raw text holding presentation forms, and none of the plain
    letters, shows the letters were joined rather than drawn one by one in isolated form.
    """
    _, data = print_report(partners_of_every_script)
    (arabic_page,) = [text for text in pages_text(data) if "Code: ARA" in text]
    name_line = arabic_page.splitlines()[1]
    assert unicodedata.normalize("NFKC", name_line) == NAMES["ARA"]
    assert all("\ufb50" <= char <= "\ufeff" for char in name_line.replace(" ", ""))


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_names_in_every_script_are_drawn_with_fonts_that_have_their_glyphs(bold):
    files = dict(BOLD if bold else REGULAR)
    for name in [*NAMES.values(), "שרה כהן", "Ελένη Ñandú Щукина"]:
        for font, chars in family(bold).runs(name):
            missing = [char for char in chars if ord(char) not in load_font(font, files[font])]
            assert not missing, f"{name}: {font} has no glyph for {missing}"


def test_the_fonts_are_embedded_in_the_pdf(partners_of_every_script):
    _, data = print_report(partners_of_every_script)
    embedded = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            if "/FontFile2" in descendant["/FontDescriptor"]:
                embedded.add(str(font["/BaseFont"]).split("+")[-1])
    assert embedded == {"NotoSans-Regular", "NotoSans-Bold", "NotoSansArabic-Regular", "NotoSansArabic-Bold",
                        "DroidSansFallback"}


def test_every_form_the_arabic_shaper_emits_has_a_glyph_in_both_arabic_fonts():
    arabic_files = [entry for entry in REGULAR if entry[0] == "Payouts-Arabic"]
    arabic_files.append(("Payouts-Arabic-Bold", "NotoSansArabic-Bold.ttf"))
    beh = "ب"
    samples = ["الله", "لا لأ لإ لآ"]
    for letter in arabic_reshaper.letters.LETTERS_ARABIC:
        samples += [letter, beh + letter, letter + beh, beh + letter + beh]
    shaped = {char for sample in samples for char in visual_order(sample)}
    for font, file_name in arabic_files:
        assert not {char for char in shaped if ord(char) not in load_font(font, file_name)}


def test_brackets_in_a_right_to_left_name_are_mirrored_so_they_read_correctly():
    assert visual_order("محمد (P2)").startswith("(P2) ")


def _ledger(lines: int, code: str = "ANN", name: str = "Ann") -> PartnerLedger:
    ledger = PartnerLedger(1, code, name, None, "USD", JUNE, 0)
    for number in range(lines):
        ledger.lines.append(LedgerLine(number, JUNE.start, "commission", f"R-{number}", "", 100, 100 * (number + 1)))
    return ledger


def test_a_partner_with_many_entries_is_numbered_page_1_of_2_and_page_2_of_2(sqlite_db):
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        for day in range(45):
            add_entry(s, ann, "commission", 100, JUNE.start + timedelta(days=day % 30))
        add_entry(s, add_partner(s, "BOB", "Bob"), "commission", 100, "2015-06-02")
    pages, data = print_report(sqlite_db)
    texts = pages_text(data)
    assert pages == 3
    assert "Page 1 of 2" in texts[0] and "Ann" in texts[0]
    assert "Page 2 of 2" in texts[1] and "Ann (ANN)" in texts[1] and "Ending balance (2015-06-30)" in texts[1]
    assert "Page 1 of 1" in texts[2] and "Bob" in texts[2]


def test_totals_that_do_not_fit_under_the_last_rows_go_on_a_page_of_their_own():
    assert paginate(30, first_rows=30, later_rows=40, summary_rows=5) == [
        PageSlice(0, 30, totals=False), PageSlice(30, 30, totals=True)]


def test_pages_are_filled_before_a_new_one_starts():
    assert paginate(80, first_rows=30, later_rows=40, summary_rows=5) == [
        PageSlice(0, 30, totals=False), PageSlice(30, 70, totals=False), PageSlice(70, 80, totals=True)]


def test_a_partner_with_no_entries_in_the_range_still_gets_one_page():
    assert paginate(0, first_rows=30, later_rows=40) == [PageSlice(0, 0, totals=True)]


def test_every_page_of_a_long_ledger_carries_its_partner_and_page_number():
    out = io.BytesIO()
    pages = write_ledgers_pdf([_ledger(200)], out, organisation="Acme", paper="letter")
    texts = pages_text(out.getvalue())
    assert pages == len(texts) > 4
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text and "Ann (ANN)" in text


def test_an_empty_report_prints_one_page_that_says_so():
    out = io.BytesIO()
    assert write_ledgers_pdf([], out, organisation="Acme", paper="a4") == 1
    assert "No partner ledger to print." in pages_text(out.getvalue())[0]


def test_letter_and_a4_give_their_page_sizes(sqlite_db):
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "ANN", "Ann"), "commission", 100, "2015-06-02")
    sizes = {}
    for paper in ("letter", "a4"):
        _, data = print_report(sqlite_db, paper=paper)
        box = PdfReader(io.BytesIO(data)).pages[0].mediabox
        sizes[paper] = (round(float(box.width)), round(float(box.height)))
    assert sizes == {"letter": (612, 792), "a4": (595, 842)}


def test_an_unknown_paper_size_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown paper size 'legal'"):
        write_ledgers_pdf([_ledger(1)], io.BytesIO(), organisation="Acme", paper="legal")


def test_each_ledger_is_let_go_once_its_pages_are_drawn():
    alive: list[weakref.ref] = []

    def ledgers() -> Iterator[PartnerLedger]:
        for number in range(6):
            gc.collect()
            assert sum(ref() is not None for ref in alive) <= 1
            ledger = _ledger(3, code=f"P{number}")
            alive.append(weakref.ref(ledger))
            yield ledger

    assert write_ledgers_pdf(ledgers(), io.BytesIO(), organisation="Acme", paper="letter") == 6


@pytest.fixture
def cli_database(sqlite_db):
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        eleni = add_partner(s, "ELE", NAMES["GRE"], currency="EUR")
        wang = add_partner(s, "WAN", NAMES["CHI"])
        add_entry(s, ann, "commission", 12_345, "2015-06-10")
        add_entry(s, eleni, "commission", 2_000, "2015-06-12")
        add_entry(s, wang, "commission", 7_000, "2015-06-14")
    return sqlite_db.url


def test_cli_ledger_pdf_writes_every_partner_to_the_file(cli_database, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ORGANISATION_NAME", "Société Référence")
    target = tmp_path / "june.pdf"
    status = main(["--database", cli_database, "ledger", "2015-06", "--pdf", str(target), "--paper", "a4"])
    out = capsys.readouterr().out
    assert status == 0 and "3 partner ledger(s), 3 page(s)" in out
    assert target.read_bytes().startswith(b"%PDF-")
    text = "\n".join(pages_text(target.read_bytes()))
    assert "Ann" in text and NAMES["GRE"] in text and NAMES["CHI"] in text
    assert text.count("Société Référence") == 3


def test_cli_batch_print_stamps_each_ledger_with_the_batch(cli_database, tmp_path, capsys):
    pay = ["pay", "2015-06", "--method", "ending-balance", "--date", "2015-07-01", "--type", "paypal", "--yes"]
    assert main(["--database", cli_database, *pay]) == 0
    target = tmp_path / "batch.pdf"
    status = main(["--database", cli_database, "batch", "print", "Batch-20150701", "--output", str(target)])
    assert status == 0 and "Printed the ledgers of Batch-20150701, 3 page(s)" in capsys.readouterr().out
    ann, eleni, wang = pages_text(target.read_bytes())
    for text in (ann, eleni, wang):
        assert "Batch-20150701   ·   Payment date" in text and "Batch Batch" not in text
        assert "Payment date 2015-07-01" in text and "Payment type PayPal" in text
    assert "Amount paid: $123.45" in ann and "Amount paid: €20.00" in eleni and "Amount paid: $70.00" in wang
    assert NAMES["GRE"] in eleni and NAMES["CHI"] in wang


def test_cli_ledger_pdf_alone_says_in_one_line_what_it_wrote_instead_of_printing_the_report(cli_database, tmp_path,
                                                                                            capsys):
    """SPEC §5: `--pdf FILE` prints the ledgers; the report table is asked for with --format or --output."""
    target = tmp_path / "june.pdf"
    assert main(["--database", cli_database, "ledger", "2015-06", "--pdf", str(target)]) == 0
    assert capsys.readouterr().out == f"Printed 3 partner ledger(s), 3 page(s): {target}\n"


def test_cli_ledger_pdf_with_a_format_prints_the_report_and_says_what_it_wrote_on_standard_error(
        cli_database, tmp_path, capsys):
    target = tmp_path / "june.pdf"
    assert main(["--database", cli_database, "ledger", "2015-06", "--format", "json", "--pdf", str(target)]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["rows"]) == 3
    assert captured.err == f"Printed 3 partner ledger(s), 3 page(s): {target}\n"


def test_control_characters_in_stored_text_print_as_their_escapes():
    """A bidi override would make the reference read backwards; a newline or ESC has no glyph."""
    ledger = _ledger(0, name="Ann\x1b[2J\nBob")
    ledger.lines.append(LedgerLine(1, JUNE.start, "commission", "\u202e00.1$", "Bonus\tplan", 100, 100))
    out = io.BytesIO()
    write_ledgers_pdf([ledger], out, organisation="Acme", paper="letter")
    [text] = pages_text(out.getvalue())
    assert "Ann\\x1b[2J\\nBob" in text and "\\u202e00.1$" in text and "Bonus\\tplan" in text
    assert not any(ch in text for ch in "\x1b\u202e\t")


def test_cli_batch_print_of_a_batch_never_posted_exits_2_and_writes_nothing(cli_database, sqlite_db, tmp_path, capsys):
    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check",
                                   date(2015, 7, 1))
    with sqlite_db.write() as s:
        batches.request_batch(s, options, actor="U_REQ", now=datetime(2015, 7, 1, tzinfo=UTC))
    target = tmp_path / "pending.pdf"
    status = main(["--database", cli_database, "batch", "print", "Batch-20150701", "--output", str(target)])
    assert status == 2 and "Batch-20150701 is pending; only a posted batch prints its ledgers" in capsys.readouterr().err
    assert not target.exists()


def test_cli_batch_print_of_an_unknown_batch_exits_2_naming_it(cli_database, tmp_path, capsys):
    status = main(["--database", cli_database, "batch", "print", "Batch-19990101", "--output", str(tmp_path / "x.pdf")])
    assert status == 2 and "Batch-19990101" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["Order commission for customer #12345 in June", "Ωμέγα Αλφα Βήτα Γάμμα Δέλτα Έψιλον"])
def test_text_too_wide_for_its_column_is_cut_with_an_ellipsis_that_fits(text):
    cut = family().fit(text, 9, 100)
    assert cut.endswith("…") and text.startswith(cut[:-1]) and family().width(cut, 9) <= 100


def test_text_that_fits_its_column_is_printed_whole():
    assert family().fit("Refund", 9, 100) == "Refund"


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("stamped", [False, True], ids=["report", "batch"])
def test_no_row_or_total_is_printed_over_the_footer(paper, stamped):
    stamp = BatchStamp("Batch-20150701", date(2015, 7, 1), "Check", {1: (100, "USD")}) if stamped else None
    for lines in range(25, 90):
        out = io.BytesIO()
        write_ledgers_pdf([_ledger(lines)], out, organisation="Acme", paper=paper, stamp=stamp)
        for page in PdfReader(io.BytesIO(out.getvalue())).pages:
            content = ContentStream(page.get_contents(), None)
            baselines = {float(operands[5]) for operands, operator in content.operations if operator == b"Tm"}
            above_footer = sorted(y for y in baselines if y > 50)  # the footer line itself sits at the margin
            assert above_footer[0] >= 50 + 12 + 9, f"{lines} lines on {paper}: a row at y={above_footer[0]}"


@pytest.fixture
def small_parts(monkeypatch):
    """Three pages a part, so a few ledgers are drawn on several canvases and joined."""
    monkeypatch.setattr(pdf_ledgers, "PART_PAGES", 3)


def _ledgers_over_several_parts() -> list[PartnerLedger]:
    return [_ledger(3, code="ANN", name="Ann"), _ledger(150, code="ELE", name=NAMES["GRE"]),
            _ledger(2, code="WAN", name=NAMES["CHI"]), _ledger(1, code="ZED", name="Zed")]


def test_ledgers_printed_in_several_parts_are_one_valid_pdf_with_every_page_in_order(small_parts):
    out = io.BytesIO()
    pages = write_ledgers_pdf(_ledgers_over_several_parts(), out, organisation="Acme", paper="letter")
    reader = PdfReader(io.BytesIO(out.getvalue()), strict=True)
    footers = [page.extract_text().splitlines()[-1] for page in reader.pages]
    assert pages == len(reader.pages) == 7
    assert footers == ["Ann (ANN) Page 1 of 1", *(f"{NAMES['GRE']} (ELE) Page {n} of 4" for n in range(1, 5)),
                       f"{NAMES['CHI']} (WAN) Page 1 of 1", "Zed (ZED) Page 1 of 1"]


def test_each_parts_font_subsets_get_tags_of_their_own(small_parts):
    out = io.BytesIO()
    write_ledgers_pdf(_ledgers_over_several_parts(), out, organisation="Acme", paper="letter")
    subsets: dict[str, set[str]] = {}
    for page in PdfReader(io.BytesIO(out.getvalue())).pages:
        for font in page["/Resources"]["/Font"].values():
            tag, _, name = str(font.get_object()["/BaseFont"]).lstrip("/").partition("+")
            subsets.setdefault(tag + name, set()).add(repr(font.indirect_reference))
    assert len(subsets) > 3 and all(len(objects) == 1 for objects in subsets.values())


def test_the_document_title_keeps_text_that_looks_like_a_pdf_reference(small_parts):
    out = io.BytesIO()
    write_ledgers_pdf(_ledgers_over_several_parts(), out, organisation="Room 12 0 R (stream)", paper="letter")
    assert PdfReader(io.BytesIO(out.getvalue())).metadata.title == "Room 12 0 R (stream): partner ledgers"


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek or tell, like a pipe or a socket."""

    def __init__(self) -> None:
        self.received = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.received += data
        return len(data)


def test_ledgers_print_to_a_stream_that_cannot_seek(small_parts):
    pipe = _Pipe()
    pages = write_ledgers_pdf(_ledgers_over_several_parts(), pipe, organisation="Acme", paper="a4")
    assert pages == len(PdfReader(io.BytesIO(bytes(pipe.received)), strict=True).pages) == 7


def test_a_part_that_is_not_reportlab_output_is_refused_not_copied():
    joiner = PdfJoiner(io.BytesIO(), io.BytesIO())
    with pytest.raises(UnexpectedPdf, match="startxref"):
        joiner.add(b"%PDF-1.4\nnot really a PDF")


def test_a_report_whose_partners_are_loaded_in_several_steps_prints_them_all_in_report_order(sqlite_db,
                                                                                            monkeypatch):
    monkeypatch.setattr(printing, "PARTNERS_AT_ONCE", 2)
    codes = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    with sqlite_db.write() as s:
        for code in reversed(codes):
            add_entry(s, add_partner(s, code, f"Partner {code}"), "commission", 1_000, "2015-06-03")
    pages, data = print_report(sqlite_db)
    assert pages == 5
    assert [text.splitlines()[-1] for text in pages_text(data)] == [f"Partner {c} ({c}) Page 1 of 1" for c in codes]


def _print_in_a_child(partners: int, target: Path) -> float:
    """Peak resident memory, in MB, of a fresh process printing one-page ledgers to a file.

    The child reports its own high-water mark (VmHWM): the rusage of a child started from a big
    process like pytest counts the parent's memory at the fork, which would hide any difference.
    """
    script = (
        "import sys\n"
        "from tests.test_pdf_ledgers import _ledger\n"
        "from commands.pdf_ledgers import write_ledgers_pdf\n"
        "ledgers = (_ledger(20, code=f'P{number:05d}', name=f'Partner {number}') for number in range(int(sys.argv[1])))\n"
        "with open(sys.argv[2], 'wb') as out:\n"
        "    write_ledgers_pdf(ledgers, out, organisation='Acme', paper='letter')\n"
        "with open('/proc/self/status') as status:\n"
        "    print(next(line.split()[1] for line in status if line.startswith('VmHWM:')))\n"
    )
    child = subprocess.run([sys.executable, "-c", script, str(partners), str(target)], cwd=REPOSITORY,
                           capture_output=True, text=True, check=True)
    return int(child.stdout.strip()) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads a process's peak memory from /proc")
def test_peak_memory_does_not_grow_with_the_number_of_partners(tmp_path):
    """Four times the partners, over several parts, within a small margin of the same peak memory.

    Before parts were joined, reportlab held every page to the end: the 750 extra pages here cost
    about 8 MB.
    """
    few = _print_in_a_child(PART_PAGES, tmp_path / "few.pdf")
    many = _print_in_a_child(4 * PART_PAGES, tmp_path / "many.pdf")
    assert len(PdfReader(tmp_path / "many.pdf").pages) == 4 * PART_PAGES
    assert many - few < 2, f"{PART_PAGES} partners peaked at {few:.1f} MB, {4 * PART_PAGES} at {many:.1f} MB"


def test_control_characters_are_measured_as_the_escapes_that_print_so_they_stay_in_their_column():
    text = "\x1b" * 10  # ten characters would fit without measuring; their escapes are forty
    fitted = family().fit(text, 9, 86)
    assert family().width(fitted, 9) <= 86 and fitted.endswith("…")
