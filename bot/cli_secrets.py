"""`payouts secret-key` and `payouts rotate-secrets`: the key that encrypts bank details (SPEC §9)."""

from __future__ import annotations

import argparse

from commands.context import Request


def _cmd_secret_key(args: argparse.Namespace, request: Request) -> int:
    from domain.secret_box import generate_key

    print(generate_key())
    return 0


def _cmd_rotate(args: argparse.Namespace, request: Request) -> int:
    from commands.use_secrets import rotate_secrets

    count = rotate_secrets(request)
    print(f"Re-encrypted the bank details of {count} partner(s) with the first key of PAYOUTS_SECRET_KEY; "
          "the other keys may now be removed.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("secret-key", help="print a new key for PAYOUTS_SECRET_KEY").set_defaults(
        handler=_cmd_secret_key, needs_schema=False)
    sub.add_parser("rotate-secrets", help="re-encrypt stored bank details with the first PAYOUTS_SECRET_KEY").set_defaults(
        handler=_cmd_rotate)
