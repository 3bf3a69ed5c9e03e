"""Encryption of partners' bank details at rest with PAYOUTS_SECRET_KEY (SPEC §9).

Fernet (from `cryptography`) gives authenticated encryption with a versioned token, and MultiFernet
decrypts with any of several keys while encrypting with the first: that is key rotation. The
library loads only where a secret is read or written, so a ledger report starts without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

SECRET_KEY_SETTING = "PAYOUTS_SECRET_KEY"


class SecretKeyError(ValueError):
    """A missing, malformed or wrong PAYOUTS_SECRET_KEY; the message never holds a key or a secret."""


def generate_key() -> str:
    """A fresh key in the form PAYOUTS_SECRET_KEY takes (url-safe base64 of 32 random bytes)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def _split_keys(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class SecretBox:
    """Encrypts with the first key given and decrypts with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        if not keys:
            raise SecretKeyError(f"{SECRET_KEY_SETTING} is empty; create a key with `payouts secret-key`")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise SecretKeyError(
                    f"{SECRET_KEY_SETTING}: key {position} is not a key made by `payouts secret-key` "
                    "(32 bytes in url-safe base64)"
                ) from None
        self._box: Any = MultiFernet(fernets)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SecretBox | None:
        """The box for PAYOUTS_SECRET_KEY (comma-separated keys, the first encrypts), or None when unset."""
        value = (os.environ if env is None else env).get(SECRET_KEY_SETTING, "")
        keys = _split_keys(value)
        return cls(keys) if keys else None

    def encrypt(self, text: str) -> str:
        return self._box.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._box.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"stored bank details cannot be read with {SECRET_KEY_SETTING}: give the key they were "
                "encrypted with (comma-separated after the new one while rotating)"
            ) from None

    def rotate(self, token: str) -> str:
        """The same secret encrypted with the first key."""
        from cryptography.fernet import InvalidToken

        try:
            return self._box.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretKeyError(
                f"stored bank details cannot be read with {SECRET_KEY_SETTING}: give the old key after the new one"
            ) from None


def require_box(box: SecretBox | None, why: str) -> SecretBox:
    """`box`, or a refusal saying what needs the key and how to make one."""
    if box is None:
        raise SecretKeyError(f"{why} needs {SECRET_KEY_SETTING}; create a key with `payouts secret-key` and set it")
    return box
