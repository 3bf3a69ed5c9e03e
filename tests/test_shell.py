"""`payouts shell` driven as a user drives it: commands on standard input, replies on standard output."""

from __future__ import annotations

import io
import os
import pty
import select as select_module
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from domain.models import Batch, Entry
from tests.factories import add_entry, add_partner

PREVIEW = "payout 2015-06 method=ending-balance type=Check batch=June-1 date=2015-07-01 min=0"


@pytest.fixture
def database(sqlite_db):
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        add_entry(s, ann, "commission", 12_345, "2015-06-10", reference="ORD-1", description="Annual plan")
        add_entry(s, ann, "clawback", 345, "2015-06-20", reference="RFD-1", description="Refund")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
    return sqlite_db


@pytest.fixture
def files(tmp_path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def shell(database, files, monkeypatch, capsys):
    """Type lines into `payouts shell`; get back the exit status and what it printed."""

    def run(*lines: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
        status = main(["--database", database.url, "shell", "--files-dir", str(files)])
        return status, capsys.readouterr().out

    return run


def squeezed(text: str) -> str:
    """Table lines with their column padding reduced to one space."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def payments(database) -> int:
    with database.read() as s:
        return s.scalar(select(func.count(Entry.id)).where(Entry.kind == "payment"))


def test_a_report_shows_totals_the_top_partners_and_numbered_buttons(shell):
    status, out = shell("ledger 2015-06")
    assert status == 0
    assert "Referral partner ledger 2015-06-01..2015-06-30: 2 partner(s)" in out
    assert "Total USD (1 partner(s)): ending $120.00" in out
    assert "ANN Ann $0.00 $123.45 $3.45 $0.00 $120.00" in squeezed(out)
    assert "(Top 2 of 2 partner(s) by ending balance in each currency)" in out
    assert "[1] CSV   [2] PDF   [3] Create payments…   [4] Chart" in out


def test_a_line_may_start_with_the_slash(shell):
    _, with_slash = shell("/ledger 2015-06")
    _, without = shell("ledger 2015-06")
    assert with_slash == without and "Referral partner ledger 2015-06-01..2015-06-30" in without


def test_a_partner_ledger_shows_each_entry_with_its_running_balance(shell):
    status, out = shell("ledger 2015-06 partner ANN")
    assert status == 0
    assert "Ann (ANN): ledger 2015-06-01..2015-06-30, USD" in out
    assert "2015-06-10 commission ORD-1 Annual plan $123.45 $123.45" in squeezed(out)
    assert "2015-06-20 clawback RFD-1 Refund -$3.45 $120.00" in squeezed(out)


def test_help_lists_the_chat_commands_and_how_the_shell_works(shell):
    status, out = shell("help")
    assert status == 0
    assert "/ledger RANGE partner CODE" in out and "/payout remind add weekly WEEKDAY HH:MM CHANNEL" in out
    assert "Buttons are numbered: type the number to press one." in out


def test_a_malformed_date_gets_the_reason_and_an_example_and_the_session_goes_on(shell):
    status, out = shell("ledger 2015-02-30..2015-03-31", "ledger 2015-06")
    assert "Error: '2015-02-30' is not a real date\n  Example: /ledger 2015-06" in out
    assert "Traceback" not in out
    assert "Referral partner ledger 2015-06-01..2015-06-30" in out
    assert status == 2


def test_an_unknown_command_suggests_a_real_one(shell):
    status, out = shell("refund everything")
    assert "Error: there is no command 'refund' (type help, or try ledger last-month)" in out
    assert status == 2


def test_the_csv_button_picked_by_number_writes_the_file_and_prints_its_path(shell, files):
    status, out = shell("ledger 2015-06", "1")
    written = files / "referral-ledger-2015-06-01-to-2015-06-30.csv"
    assert f"File: {written}" in out
    assert written.read_text(encoding="utf-8").splitlines()[1].startswith("ANN,Ann,partner@example.com,USD,0.00,123.45")
    assert status == 0


def test_files_go_to_payouts_files_dir_when_no_folder_is_given(database, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAYOUTS_FILES_DIR", str(tmp_path / "from-env"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("ledger 2015-06 csv\n"))
    main(["--database", database.url, "shell"])
    assert (tmp_path / "from-env" / "referral-ledger-2015-06-01-to-2015-06-30.csv").is_file()
    assert f"File: {tmp_path / 'from-env'}" in capsys.readouterr().out


def test_the_pdf_button_still_works_after_the_csv_button(shell, files):
    pytest.importorskip("commands.pdf_ledgers")
    shell("ledger 2015-06", "1", "2")
    assert (files / "referral-ledgers-2015-06-01-to-2015-06-30.pdf").read_bytes().startswith(b"%PDF")


def test_words_may_be_separated_by_tabs_and_other_digits_are_not_button_numbers(shell):
    status, out = shell("ledger\t2015-06", "²")
    assert "Referral partner ledger 2015-06-01..2015-06-30" in out
    assert "Error: there is no command '²'" in out and status == 2


def test_a_number_with_no_button_says_so(shell):
    status, out = shell("ledger 2015-06", "7")
    assert "Error: there is no button 7 (type 1-4)" in out
    assert status == 2


def test_preview_submit_and_approve_all_in_the_shell(shell, database, files):
    status, out = shell(PREVIEW, "1", "1", "y")
    assert "Preview of June-1: 2 payment(s)" in out and "[1] Submit for approval" in out
    assert "June-1 submitted for approval" in out
    assert "→ approvers:\nApproval needed: June-1, 2 payment(s) requested by cli:" in out
    assert "[1] Approve   [2] Reject" in out
    assert "Post June-1: 2 payment(s)? This records them in the ledger. [y/N]: y" in out
    assert "June-1 approved by cli:" in out and "and posted" in out
    assert (files / "June-1-payouts.csv").is_file()
    assert payments(database) == 2 and status == 0


def test_approval_not_confirmed_posts_nothing(shell, database):
    _, out = shell(PREVIEW, "1", "1", "")
    assert "Not pressed: Approve." in out
    assert payments(database) == 0


def test_create_payments_asks_the_form_with_defaults_and_submits(shell, database):
    status, out = shell("ledger 2015-06", "3", "", "commission", "2", "June-9", "2015-07-01", "", "", "")
    assert "Create payments: answer each question; an empty line keeps the value in [brackets]." in out
    assert "Date range [2015-06-01..2015-06-30]: \n" in out
    assert "Payment type (1=Check, 2=PayPal, 3=Bank transfer" in out and "[Check]: 2\n" in out
    assert "June-9 submitted for approval" in out
    with database.read() as s:
        batch = s.scalar(select(Batch).where(Batch.batch_id == "June-9"))
    assert (batch.method, batch.payment_type, batch.status) == ("commission", "PayPal", "pending")
    assert status == 0


def test_a_refused_form_answer_is_asked_again_with_the_reason(shell, database):
    _, out = shell("payout 2015-06", "", "", "", "June-9", "2015-02-30", "", "", "", "2015-07-01")
    assert "  Payment date: '2015-02-30' is not a real date" in out
    assert out.count("Payment date [") == 2
    assert "June-9 submitted for approval" in out


def test_a_form_with_a_payment_date_before_the_range_shows_the_preview_and_submits_only_once_the_date_is_confirmed(shell, database):
    _, out = shell("payout 2015-06", "", "", "", "June-9", "2015-05-31", "", "", "", "1", "y")
    assert "The payment date 2015-05-31 is before the range starts (2015-06-01)" in out
    assert "Pay June-9 on 2015-05-31? Note: the payment date 2015-05-31 is before the range starts" in out
    assert "June-9 submitted for approval" in out


def test_a_preview_whose_odd_payment_date_is_not_confirmed_submits_nothing(shell, database):
    _, out = shell("payout 2015-06 method=commission type=Check batch=June-9 date=9999-12-31 min=0", "1", "")
    assert "Not pressed: Submit for approval." in out
    with database.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_a_refused_form_answer_is_not_offered_back_as_the_default(shell, database):
    _, out = shell("payout 2015-06", "", "", "", "June-9", "2015-02-30", "", "", "", "")
    first, second = [line.split("]")[0] for line in out.splitlines() if line.startswith("Payment date [")]
    assert first == second != "Payment date [2015-02-30"
    assert "June-9 submitted for approval" in out


def test_an_unknown_shell_command_echoes_at_most_40_characters_of_it(shell):
    _, out = shell("x" * 1_000_000)
    assert f"there is no command '{'x' * 40}…'" in out and len(out) < 1_000


def test_a_choice_not_on_the_list_is_asked_again(shell):
    _, out = shell("payout 2015-06", "", "everything", "1", "", "", "", "", "", "")
    assert "  choose one of: commission, beginning-plus-commission, ending-balance (or its number)" in out
    assert "submitted for approval" in out


def test_end_of_input_inside_a_form_submits_nothing(shell, database):
    _, out = shell("payout 2015-06", "")
    assert "Create payments: cancelled, nothing was submitted." in out
    with database.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_a_script_whose_form_answers_are_refused_until_its_input_ends_exits_2(shell, database):
    status, out = shell("payout 2015-06", "", "", "", "June-9", "2015-02-30", "", "", "")
    assert "  Payment date: '2015-02-30' is not a real date" in out
    assert "Create payments: cancelled, nothing was submitted." in out
    assert status == 2


def test_quit_ends_the_session(shell):
    _, out = shell("ledger 2015-06", "quit", "ledger 2015-Q2")
    assert "Referral partner ledger 2015-06-01..2015-06-30" in out
    assert "2015-04-01..2015-06-30" not in out


def test_payouts_shell_as_a_subprocess_reads_a_script_from_standard_input(database, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
         "--database", database.url, "shell", "--files-dir", str(tmp_path / "out")],
        input="ledger 2015-06 csv\nexit\n", capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "attached as CSV" in result.stdout
    assert (tmp_path / "out" / "referral-ledger-2015-06-01-to-2015-06-30.csv").is_file()


def test_demo_ends_in_the_shell_with_a_welcome(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("ledger last-month\n"))
    status = main(["--database", f"sqlite:///{tmp_path / 'demo.db'}", "demo", "--partners", "5"])
    out = capsys.readouterr().out
    assert "Referral payouts shell" in out and "Try:  ledger last-month" in out
    assert "Referral partner ledger" in out and status == 0


def _read_until(fd: int, marker: bytes, seconds: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select_module.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_at_a_terminal_the_shell_welcomes_prompts_and_keeps_history(database, tmp_path):
    controller, terminal = pty.openpty()
    env = {**os.environ, "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
         "--database", database.url, "shell"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=tmp_path,
    )
    os.close(terminal)
    try:
        welcome = _read_until(controller, b"payouts> ")
        os.write(controller, b"ledger 2015-06\n")
        report = _read_until(controller, b"Create payments")
        os.write(controller, b"quit\n")
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        os.close(controller)
    assert b"Try:  ledger last-month" in welcome
    assert b"Referral partner ledger 2015-06-01..2015-06-30" in report
    assert "ledger 2015-06" in (tmp_path / ".payouts_history").read_text()


def test_a_reminder_for_a_channel_outside_ledger_channels_is_refused_in_the_shell_too(shell, monkeypatch):
    monkeypatch.setenv("LEDGER_CHANNELS", "C0LEDGER")
    status, out = shell("payout remind add monthly 1 09:00 C0OTHER12", "payout remind list")
    assert status == 2 and "C0OTHER12" in out and "C0LEDGER" in out
    assert "No reminder schedules" in out


# ---- stored text is shown, never obeyed ---------------------------------------------------------

FORGED = "Big Payee\nA     Alice          $1.00"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J"


@pytest.fixture
def forged(sqlite_db, files, monkeypatch, capsys):
    """Names, references and descriptions written before the import rules, holding controls."""
    with sqlite_db.write() as s:
        big = add_partner(s, "BIG", FORGED)
        add_entry(s, big, "commission", 999_900, "2015-06-10", reference=f"R{ESCAPES}", description=f"Plan{ESCAPES}")
        add_entry(s, add_partner(s, "LOW", f"Low{ESCAPES}"), "clawback", 100, "2015-06-10")

    def run(*lines: str) -> str:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
        main(["--database", sqlite_db.url, "shell", "--files-dir", str(files)])
        return capsys.readouterr().out

    return run


def test_a_newline_in_a_stored_name_draws_no_row_of_its_own_in_the_shell(forged):
    out = forged("ledger 2015-06")
    assert "BIG Big Payee\\nA Alice $1.00 $0.00 $9,999.00" in squeezed(out)
    assert not any(line.split()[:1] == ["A"] for line in out.splitlines())


def test_escape_sequences_in_stored_text_reach_the_shell_as_visible_escapes(forged):
    out = forged("ledger 2015-06 partner BIG", "ledger 2015-06 partner LOW")
    assert "R\\x1b]0;pwned\\x07\\x1b[2J" in out and "Plan\\x1b]0;pwned\\x07\\x1b[2J" in out
    assert "Low\\x1b]0;pwned\\x07\\x1b[2J (LOW): ledger" in out
    assert "\x1b" not in out and "\x07" not in out


def test_a_skipped_partner_with_a_newline_in_its_name_is_one_line_of_the_preview(forged):
    out = forged("payout 2015-06 method=ending-balance type=Check batch=June-1 date=2015-07-01 min=0")
    assert "LOW Low\\x1b]0;pwned\\x07\\x1b[2J: " in out and "\x1b" not in out
