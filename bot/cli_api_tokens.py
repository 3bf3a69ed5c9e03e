"""`payouts api-token create|list|revoke`: the bearer tokens of the HTTP API (SPEC §11)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli_usage import UsageProblem
from commands.context import Request


def _cmd_create(args: argparse.Namespace, request: Request) -> int:
    from commands.use_api_tokens import TokenError, create_token

    try:
        token = create_token(request, args.name, args.scope)
    except TokenError as exc:
        raise UsageProblem(str(exc)) from None
    print(token)
    print(f"Token '{args.name}' ({args.scope}) created. It is shown only this once: store it now.", file=sys.stderr)
    return 0


def _cmd_list(args: argparse.Namespace, request: Request) -> int:
    from commands.text_table import render
    from commands.use_api_tokens import list_tokens

    tokens = list_tokens(request)
    if args.format == "json":
        print(json.dumps([{"name": t.name, "scope": t.scope, "created_at": t.created_at.isoformat(),
                           "created_by": t.created_by,
                           "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                           "revoked_by": t.revoked_by} for t in tokens], ensure_ascii=False, indent=2))
        return 0
    if not tokens:
        print("No API tokens yet: create one with `payouts api-token create NAME --scope read|write`.")
        return 0
    rows = [[t.name, t.scope, f"{t.created_at:%Y-%m-%d %H:%M}", t.created_by,
             f"revoked {t.revoked_at:%Y-%m-%d %H:%M} by {t.revoked_by}" if t.revoked_at else "active"]
            for t in tokens]
    print(render(("Name", "Scope", "Created (UTC)", "By", "Status"), rows, (False,) * 5, max_width=60))
    return 0


def _cmd_revoke(args: argparse.Namespace, request: Request) -> int:
    from commands.use_api_tokens import TokenError, revoke_token

    try:
        revoke_token(request, args.name)
    except TokenError as exc:
        raise UsageProblem(str(exc)) from None
    print(f"Token '{args.name}' revoked: the API refuses it from now on.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    tokens = sub.add_parser("api-token", help="create, list or revoke bearer tokens of the HTTP API")
    actions = tokens.add_subparsers(dest="token_command", required=True, parser_class=sub._parser_class)
    create = actions.add_parser("create", help="a new token, printed once; only its hash is stored")
    create.add_argument("name", help="who uses it, as the audit log will name them (api:NAME)")
    create.add_argument("--scope", choices=("read", "write"), required=True,
                        help="read: the report and batches; write: also post partners and entries")
    create.set_defaults(handler=_cmd_create)
    listing = actions.add_parser("list", help="every token, active and revoked (never the tokens themselves)")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(handler=_cmd_list)
    revoke = actions.add_parser("revoke", help="refuse a token from now on")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_cmd_revoke)
