"""`/ledger help` and `/payout help`: every form of the command, each with an example that works."""

from __future__ import annotations

from commands.reply import Reply, Section
from domain.batches import METHODS
from domain.dates import RANGE_EXAMPLES
from domain.settings import Settings

LEDGER_FORMS = (
    ("/ledger RANGE", "the report: totals per currency, the top partners, buttons for CSV, PDF, payments and a chart",
     "/ledger 2015-06"),
    ("/ledger RANGE partner CODE", "one partner's ledger with a running balance", "/ledger last-month partner ANN"),
    ("/ledger RANGE csv", "the whole report as a CSV file", "/ledger 2015-Q2 csv"),
    ("/ledger RANGE pdf [paper=a4]", "every partner's ledger printed, one per page group", "/ledger 2015-06 pdf"),
    ("/ledger RANGE chart", "commissions, clawbacks and payments per month as a picture (at most 24 months)",
     "/ledger 2015 chart"),
    ("/ledger RANGE all", "list partners with nothing to show too", "/ledger 2015 all"),
    ("/ledger help", "this help", "/ledger help"),
)
PAYOUT_FORMS = (
    ("/payout RANGE", "a form to create payments, filled in with the defaults", "/payout last-month"),
    ("/payout RANGE method=M type=T batch=ID date=YYYY-MM-DD min=AMOUNT [overlap=allow] [partners=CODE,CODE]",
     "a preview with a Submit for approval button",
     "/payout 2015-06 method=ending-balance type=Check batch=Batch-20150701 date=2015-07-01 min=25"),
    ("/payout list", "the most recent batches", "/payout list"),
    ("/payout status BATCH", "one batch: status, who requested and decided, its lines", "/payout status Batch-20150701"),
    ("/payout void BATCH REASON", "record reversing entries for a posted batch",
     "/payout void Batch-20150701 the checks were never sent"),
    ("/payout fail BATCH PARTNER REASON", "one partner's payment came back: reverse that line only (approvers)",
     "/payout fail Batch-20150701 ANN unclaimed after 30 days"),
    ("/payout remind add monthly DAY HH:MM CHANNEL [range=last-month]", "remind a channel when payouts are due",
     "/payout remind add monthly 1 09:00 C0123ABCD"),
    ("/payout remind add weekly WEEKDAY HH:MM CHANNEL [range=last-week]", "a weekly reminder",
     "/payout remind add weekly mon 09:00 <#C0123ABCD|finance>"),
    ("/payout remind list", "the reminder schedules", "/payout remind list"),
    ("/payout remind remove ID", "stop a reminder", "/payout remind remove 3"),
    ("/payout help", "this help", "/payout help"),
)


def _forms_text(forms: tuple[tuple[str, str, str], ...]) -> str:
    return "\n".join(f"{form} — {meaning}\n    e.g. {example}" for form, meaning, example in forms)


def ledger_help() -> Reply:
    return Reply("/ledger: the referral partner ledger", sections=[
        Section(_forms_text(LEDGER_FORMS), title="Forms"),
        Section(RANGE_EXAMPLES + "; both ends included, in the organisation's time zone", title="RANGE"),
    ], private=True)


def payout_help(settings: Settings) -> Reply:
    return Reply("/payout: pay every partner on the report at once, after an approval", sections=[
        Section(_forms_text(PAYOUT_FORMS), title="Forms"),
        Section(f"method: {', '.join(METHODS)}\ntype: {', '.join(settings.payment_types)} "
                '(quote a type with spaces: type="Bank transfer")\n'
                "batch: Batch-YYYYMMDD from the payment date by default\ndate: the payment date, today by default\n"
                "min: skip lines under this amount, in each partner's currency\n"
                "partners: pay only these partner codes, comma-separated", title="Options"),
    ], private=True)
