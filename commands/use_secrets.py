"""Bank details' key (SPEC §9): re-encrypting every stored value with the first key."""

from __future__ import annotations

from commands.context import Request


def rotate_secrets(request: Request) -> int:
    """How many partners' bank details were re-encrypted; a key missing from the list changes nothing."""
    from domain.payout_details import rotate_bank_details
    from domain.secret_box import SecretBox, require_box

    box = require_box(SecretBox.from_env(), "rotate-secrets")
    with request.db.write() as session:
        return rotate_bank_details(session, box, actor=request.actor)
