"""`payouts shell`: the chat commands in a terminal, typed by a person or piped in by a script.

The shell is one more transport, like the Slack app: it turns a line into `run_command`, a
number into the button it names (`run_action`), a form into one question a line (`run_form`),
and prints the replies. Attached files are written to a folder and their paths printed.

Interactive when standard input is a terminal: line editing and history (readline), a prompt and
a welcome. Scripted otherwise: one command a line, replies on standard output, no prompt echoed
except the questions of forms and confirmations, whose answers are the lines that follow.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot import shell_render as render
from commands.chat import run_action, run_command, run_form
from commands.chat_help import ledger_help, payout_help
from commands.context import Request
from commands.grammar import COMMANDS, command_name
from commands.reply import Attachment, Button, Field, Form, FormErrors, Reply, Target, shorten_echoes
from domain.channels import reminder_channels_from_env
from domain.text import visible

DEFAULT_FILES_DIR = "payouts-files"
FILES_DIR_ENV = "PAYOUTS_FILES_DIR"
HISTORY_FILE = ".payouts_history"
PROMPT = "payouts> "
QUIT = ("quit", "exit")
YES = ("y", "yes")


class Console:
    """Reads commands and answers, writes text: through readline at a terminal, plainly in a pipe."""

    def __init__(self, stdin: TextIO, stdout: TextIO, interactive: bool) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = interactive

    def write(self, text: str) -> None:
        if text:
            self.stdout.write(text if text.endswith("\n") else text + "\n")
            self.stdout.flush()

    def _read(self, prompt: str) -> str | None:
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\r\n")

    def read_command(self) -> str | None:
        return self._read(PROMPT)

    def ask(self, question: str) -> str | None:
        """A question whose answer is the next line; in a script the transcript shows both."""
        answer = self._read(question)
        if not self.interactive:
            self.stdout.write(question + (answer or "") + "\n")
            self.stdout.flush()
        return answer


def files_dir_from_env() -> str:
    return os.environ.get(FILES_DIR_ENV, "").strip() or DEFAULT_FILES_DIR


def shell_request(operator: Request, files_dir: str) -> Request:
    """The terminal operator is trusted: they approve their own batches, as with `payouts pay --yes`.

    Reminders added here are posted to Slack by the clock, so they obey the same LEDGER_CHANNELS.
    """
    return replace(operator, files_dir=files_dir, reminder_channels=reminder_channels_from_env(os.environ))


class Shell:
    def __init__(self, request: Request, console: Console) -> None:
        self.request = request
        self.console = console
        self.choices: list[Button] = []
        self.errors = 0
        self.failures = 0

    # ---- one line ------------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Run one line; False when the user asked to leave."""
        text = line.strip()
        if not text:
            return True
        if text.lower() in QUIT:
            return False
        try:
            self._dispatch(text)
        except KeyboardInterrupt:
            self.console.write("Cancelled.")
        except Exception as exc:  # the session goes on; the failure is reported, never a traceback
            self.failures += 1
            print(f"payouts: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return True

    def _dispatch(self, text: str) -> None:
        if text.isascii() and text.isdigit():
            self.press(int(text))
            return
        word, *more = text.split(maxsplit=1)
        rest = more[0] if more else ""
        name = command_name(word)
        if name in ("help", "?"):
            self.show([ledger_help(), payout_help(self.request.settings)])
            self.console.write(render.shell_help_text(self.request.files_dir or DEFAULT_FILES_DIR))
        elif name in COMMANDS:
            self.show(run_command(name, rest, self.request))
        else:
            self.show([Reply.error(f"there is no command '{word}' (type help, or try ledger last-month)",
                                   "ledger last-month")])

    # ---- replies -------------------------------------------------------------------------------

    def show(self, replies: list[Reply], *, from_button: bool = False) -> None:
        """Print replies, number their buttons, write their files, then ask any form's questions.

        A typed command starts a fresh set of numbered buttons. A pressed button keeps the earlier
        ones (a report's CSV button leaves its PDF button usable) unless its replies bring buttons
        of their own or rewrite the message the buttons were on.
        """
        offered: list[Button] = []
        forms: list[Form] = []
        for reply in replies:
            if reply.target is Target.ANNOUNCEMENT:
                self.console.write(self.rewrite_announcement(reply))
                continue
            self.console.write(render.reply_text(reply, len(offered) + 1))
            offered += reply.buttons
            self.errors += reply.is_error
            if reply.files:
                self.console.write(render.files_text(self.write_files(reply.files)))
            self.console.write("\n")
            if reply.form is not None:
                forms.append(reply.form)
        if offered or not from_button or any(reply.target is Target.REPLACE for reply in replies):
            self.choices = offered
        for form in forms:
            answered = self.fill(form)
            if answered is not None:
                self.show(answered, from_button=True)

    @staticmethod
    def rewrite_announcement(reply: Reply) -> str:
        """The approval request in Slack shows a decision taken here too (SPEC §8), or the operator hears why not."""
        from bot.slack.announcements import rewrite  # slack_sdk loads only when a decision has a request to rewrite

        problem = rewrite(reply)
        return f"Note: {problem}." if problem else f"↻ the approval request in {visible(reply.channel or '')} now reads: {visible(reply.headline)}"

    def write_files(self, files: list[Attachment]) -> list[tuple[str, str]]:
        folder = Path(self.request.files_dir or DEFAULT_FILES_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for attachment in files:
            path = folder / (Path(attachment.filename).name or "attachment")
            path.write_bytes(attachment.content)
            written.append((str(path), attachment.title))
        return written

    # ---- buttons and forms ---------------------------------------------------------------------

    def press(self, number: int) -> None:
        if not 1 <= number <= len(self.choices):
            offered = f"type 1-{len(self.choices)}" if self.choices else "the last reply has none"
            self.show([Reply.error(f"there is no button {number} ({offered})", "ledger last-month")])
            return
        button = self.choices[number - 1]
        if button.confirm:
            answer = self.console.ask(f"{button.confirm} [y/N]: ")
            if (answer or "").strip().lower() not in YES:
                self.console.write(f"Not pressed: {button.label}.")
                return
        self.show(run_action(button.action, button.value, self.request), from_button=True)

    def fill(self, form: Form) -> list[Reply] | None:
        """Ask every field, submit, and ask again only the fields the handler refused.

        A form given up after a refusal counts as an error reply, so a script whose answers were
        refused exits with 2 rather than as if its batch had been submitted.
        """
        self.console.write(render.form_intro(form))
        values = {field.name: field.default for field in form.fields}
        accepted = dict(values)  # a refused answer is never offered back as the default
        pending = list(form.fields)
        refused_before = False
        while pending:
            for field in pending:
                answer = self._answer(replace(field, default=values[field.name]))
                if answer is None:
                    self.errors += refused_before
                    self.console.write(f"{form.title}: cancelled, nothing was submitted.")
                    return None
                values[field.name] = answer
            try:
                return run_form(form.action, values, form.context, self.request)
            except FormErrors as refused:
                refused_before = True
                for field in form.fields:
                    if field.name in refused.errors:
                        self.console.write(f"  {field.label}: {shorten_echoes(refused.errors[field.name])}")
                        values[field.name] = accepted[field.name]
                    else:
                        accepted[field.name] = values[field.name]
                pending = [field for field in form.fields if field.name in refused.errors]
                if not pending:
                    self.errors += 1
                    self.console.write(f"{form.title}: {shorten_echoes('; '.join(refused.errors.values()))}")
                    return None
        return None

    def _answer(self, field: Field) -> str | None:
        """An empty line keeps the default; a choice can be typed or picked by its number."""
        while True:
            answer = self.console.ask(render.question(field))
            if answer is None:
                return None
            answer = answer.strip()
            if not answer:
                return field.default
            if not field.choices:
                return answer
            chosen = _choice(field.choices, answer)
            if chosen is not None:
                return chosen
            self.console.write(f"  choose one of: {', '.join(field.choices)} (or its number)")


def _choice(choices: tuple[str, ...], answer: str) -> str | None:
    if answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(choices):
        return choices[int(answer) - 1]
    return next((choice for choice in choices if choice.lower() == answer.lower()), None)


def _line_editing() -> Callable[[], None]:
    """readline with a history file in the home folder; returns what saves the history at the end."""
    try:
        import readline
    except ImportError:
        return lambda: None
    history = Path.home() / HISTORY_FILE
    readline.set_history_length(1000)
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    words = ["ledger", "payout", "help", "quit", "partner", "csv", "pdf", "last-month", "this-month",
             "last-week", "last-quarter", "ytd", "list", "status", "void", "remind", "method=", "type=",
             "batch=", "date=", "min="]
    readline.set_completer(lambda text, state: ([w for w in words if w.startswith(text)] + [None])[state])
    readline.parse_and_bind("tab: complete")

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)

    return save


def run_shell(operator: Request, welcome: bool = False, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
              files_dir: str | None = None) -> int:
    """Exit status: 0; in a script 2 if any reply was an error and 1 if any command failed."""
    source = stdin or sys.stdin
    interactive = source is sys.stdin and source.isatty()
    console = Console(source, stdout or sys.stdout, interactive)
    shell = Shell(shell_request(operator, files_dir or files_dir_from_env()), console)
    save_history = _line_editing() if interactive else (lambda: None)
    if welcome or interactive:
        console.write(render.welcome_text(database=operator.db.display_url,
                                          today=operator.settings.today().isoformat(),
                                          timezone=operator.settings.timezone, actor=operator.actor))
    try:
        while True:
            try:
                line = console.read_command()
            except KeyboardInterrupt:
                console.write("^C")
                continue
            if line is None or not shell.handle(line):
                break
    finally:
        save_history()
    if interactive:
        return 0
    return 1 if shell.failures else 2 if shell.errors else 0
