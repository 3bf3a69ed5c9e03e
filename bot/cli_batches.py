"""`payouts pay`, `payouts batch …` and `payouts audit`: batches from the terminal (SPEC §5).

The domain and view modules load inside the handlers, so that registering these commands costs a
ledger report nothing at start-up. The options are read by commands.batch_options, as in chat.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from commands.context import Request
from commands.json_text import write_document
from domain.dates import parse_date, zone
from domain.text import visible

if TYPE_CHECKING:
    from commands.reply import Reply
    from commands.use_batches import BatchOptions, Decision


def positive_count(text: str) -> int:
    """A count of one or more: PostgreSQL refuses a negative LIMIT, and SQLite reads it as no limit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be 1 or more")
    return value


def _print_json(body: object) -> None:
    write_document(body, sys.stdout)


def rewrite_announcement(decision: Decision) -> None:
    """The approval request in Slack shows the decision too; a line on stderr when it could not."""
    from commands.chat_payout_views import announcement_update

    _to_slack(announcement_update(decision), rewrite=True)


def _options(args: argparse.Namespace, request: Request) -> BatchOptions:
    from commands.batch_options import batch_options

    return batch_options({
        "range": args.range, "method": args.method, "type": args.type, "batch": args.batch_id, "date": args.date,
        "min": args.minimum, "overlap": "allow" if args.allow_overlap else None, "partners": args.partners,
    }, request.settings)


def _cmd_pay(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches
    from commands.cli_batch_views import batch_json, batch_text, plan_json, plan_text

    options = _options(args, request)
    warning = use_batches.payment_date_warning(request, options)
    if warning:
        print(f"payouts: warning: {warning}", file=sys.stderr)
    if not args.yes:
        plan = use_batches.preview(request, options).plan
        _print_json(plan_json(plan)) if args.format == "json" else print(plan_text(plan))
        return 0
    posted = use_batches.pay_now(request, options)
    _print_json(batch_json(posted)) if args.format == "json" else print(batch_text(posted))  # once committed, never before
    return 0


def _cmd_batch_list(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches
    from commands.cli_batch_views import batch_json, batch_list_text

    listing = use_batches.list_batches(request, limit=args.limit, with_lines=args.format == "json")
    if args.format == "json":
        _print_json([batch_json(batch) for batch in listing.batches])
    else:
        print(batch_list_text(listing.batches, listing.totals))
    return 0


def _cmd_batch_show(args: argparse.Namespace, request: Request) -> int:
    """The batch written as its lines are read: a 100,000-line batch is never held."""
    from commands import use_batches
    from commands.cli_batch_views import write_batch_json, write_batch_text

    with use_batches.streamed(request, args.id) as batch:
        (write_batch_json if args.format == "json" else write_batch_text)(batch, sys.stdout)
    return 0


def _cmd_batch_void(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches

    decision = use_batches.void(request, args.id, args.reason)
    print(f"{args.id} voided: reversing entries recorded, the original payments stay in the ledger.")
    rewrite_announcement(decision)
    return 0


def tell_slack(reply: Reply | None) -> None:
    """A message for a Slack channel, posted when Slack is set up; a line on stderr when it could not be."""
    _to_slack(reply, rewrite=False)


def _to_slack(reply: Reply | None, *, rewrite: bool) -> None:
    if reply is None:
        return
    from bot.slack import announcements  # slack_sdk loads only when there is a message to send

    problem = (announcements.rewrite if rewrite else announcements.post)(reply)
    if problem:
        print(f"payouts: {problem}", file=sys.stderr)


def _cmd_batch_fail(args: argparse.Namespace, request: Request) -> int:
    """The batch's requester hears which partner's payment failed, where they asked for the batch."""
    from commands import use_failures
    from commands.chat_payout_views import failure_headline, requester_notice
    from commands.cli_batch_views import failure_text

    failed = use_failures.fail(request, args.id, args.partner, args.reason)
    batch = failed.batch
    print(failure_text(batch.batch_id, failed.line, failed.recorded))
    if failed.recorded:
        tell_slack(requester_notice(batch, f"In your batch {batch.batch_id}: "
                                           f"{failure_headline(batch.batch_id, failed.line, request.actor)}"))
    return 0


def _cmd_batch_repay(args: argparse.Namespace, request: Request) -> int:
    """A batch for ID's failed lines: a preview, or with --yes requested and posted at once (as `pay --yes`)."""
    from commands import use_batches, use_failures
    from commands.batch_options import given_options
    from commands.cli_batch_views import batch_json, batch_text, plan_json, plan_text

    given = given_options({"type": args.type, "date": args.date}, request.settings)
    options = use_failures.repay_options(request, args.id, payment_type=given.payment_type,
                                         payment_date=given.payment_date)
    if not args.yes:
        plan = use_batches.preview(request, options).plan
        _print_json(plan_json(plan)) if args.format == "json" else print(plan_text(plan))
        return 0
    posted = use_batches.pay_now(request, options)
    _print_json(batch_json(posted)) if args.format == "json" else print(batch_text(posted))
    return 0


def _cmd_batch_reconcile(args: argparse.Namespace, request: Request) -> int:
    from commands import use_failures
    from commands.cli_batch_views import reconciliation_text
    from commands.results_files import ResultsFileError, read_results

    try:
        with open(args.file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ResultsFileError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    rows = read_results(data, args.format)
    done = use_failures.reconcile(request, args.id, rows)
    print(reconciliation_text(done.batch.batch_id, done.paid, done.failed, done.already_failed))
    from commands.chat_payout_views import reconciliation_reply

    tell_slack(reconciliation_reply(done.batch, request.actor, len(done.paid), done.failed, len(done.already_failed)))
    return 0


def _cmd_batch_approve(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches
    from commands.cli_batch_views import batch_text

    decision = use_batches.approve(request, args.id)
    rewrite_announcement(decision)
    if decision.stale is not None:
        raise decision.stale
    print(batch_text(decision.batch))
    return 0


def _cmd_batch_reject(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches

    decision = use_batches.reject(request, args.id, args.reason or "")
    print(f"{args.id} rejected: nothing was posted.")
    rewrite_announcement(decision)
    return 0


def _cmd_audit(args: argparse.Namespace, request: Request) -> int:
    from domain import audit

    since = None
    if args.since:
        midnight = datetime.combine(parse_date(args.since), time.min, tzinfo=zone(request.settings.timezone))
        since = midnight.astimezone(UTC)
    with request.db.read() as session:
        lines = audit.read_log(session, since)
    if args.format == "json":
        _print_json([{"at": line.at.isoformat(), "actor": line.actor, "action": line.action,
                      "subject": line.subject, "detail": line.detail} for line in lines])
        return 0
    for line in lines:
        detail = ", ".join(f"{key}={value}" for key, value in sorted(line.detail.items()))
        print(visible(f"{line.at:%Y-%m-%d %H:%M:%S} UTC  {line.actor:<16}  {line.action:<16}  {line.subject}  {detail}".rstrip()))
    if not lines:
        print("The audit log is empty" + (f" since {args.since}." if args.since else "."))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    pay = sub.add_parser("pay", help="preview a batch paying every partner on the report; --yes posts it")
    pay.add_argument("range")
    pay.add_argument("--method", required=True, metavar="METHOD",
                     help="commission, beginning-plus-commission or ending-balance")
    pay.add_argument("--type", help="payment type (default: the first configured, Check)")
    pay.add_argument("--batch-id", help="default Batch-YYYYMMDD from the payment date")
    pay.add_argument("--date", help="payment date YYYY-MM-DD (default today)")
    pay.add_argument("--minimum", help="skip lines under this amount, in each line's currency")
    pay.add_argument("--allow-overlap", action="store_true", help="pay partners already paid for an overlapping range")
    pay.add_argument("--partners", metavar="CODE,…", help="pay only these partners (comma-separated codes)")
    pay.add_argument("--format", choices=("table", "json"), default="table")
    pay.add_argument("--yes", action="store_true", help="request and post at once, as the terminal operator")
    pay.set_defaults(handler=_cmd_pay)

    batch = sub.add_parser("batch", help="list, show, approve, reject, void, export or print payment batches")
    actions = batch.add_subparsers(dest="batch_command", required=True, parser_class=sub._parser_class)
    listing = actions.add_parser("list")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.add_argument("--limit", type=positive_count, default=50)
    listing.set_defaults(handler=_cmd_batch_list)
    show = actions.add_parser("show")
    show.add_argument("id")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(handler=_cmd_batch_show)
    void = actions.add_parser("void")
    void.add_argument("id")
    void.add_argument("--reason", required=True)
    void.set_defaults(handler=_cmd_batch_void)
    fail = actions.add_parser("fail", help="record one line of a posted batch as failed: its payment is reversed")
    fail.add_argument("id")
    fail.add_argument("partner", help="the partner code of the line")
    fail.add_argument("--reason", required=True)
    fail.set_defaults(handler=_cmd_batch_fail)
    repay = actions.add_parser("repay", help="a batch paying ID's failed lines again (same range and method)")
    repay.add_argument("id")
    repay.add_argument("--date", help="payment date YYYY-MM-DD (default today)")
    repay.add_argument("--type", help="payment type (default: ID's)")
    repay.add_argument("--format", choices=("table", "json"), default="table")
    repay.add_argument("--yes", action="store_true", help="request and post at once, as the terminal operator")
    repay.set_defaults(handler=_cmd_batch_repay)
    reconcile = actions.add_parser("reconcile", help="record the failed lines of a provider's results file")
    reconcile.add_argument("id")
    reconcile.add_argument("file")
    from commands.results_files import FORMATS, GENERIC

    reconcile.add_argument("--format", choices=FORMATS, default=GENERIC)
    reconcile.set_defaults(handler=_cmd_batch_reconcile)
    approve = actions.add_parser("approve", help="post a pending batch (it is checked against the ledger first)")
    approve.add_argument("id")
    approve.set_defaults(handler=_cmd_batch_approve)
    reject = actions.add_parser("reject", help="decline a pending batch; nothing is posted")
    reject.add_argument("id")
    reject.add_argument("--reason", default="")
    reject.set_defaults(handler=_cmd_batch_reject)
    from bot import cli_files

    cli_files.register_batch_files(actions)

    log = sub.add_parser("audit", help="the audit log: who changed what, and when")
    log.add_argument("--since", metavar="DATE", help="from midnight of DATE in the organisation's TIMEZONE")
    log.add_argument("--format", choices=("table", "json"), default="table")
    log.set_defaults(handler=_cmd_audit)
