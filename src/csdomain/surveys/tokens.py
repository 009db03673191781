"""Invitation tokens: unguessable, stored only as hashes, compared in constant time.

A token is 32 random bytes from :mod:`secrets` as URL-safe text (43
characters); the link a customer receives carries it, and storage keeps only
its SHA-256 digest (:func:`token_hash`). A stolen database therefore holds no
working link, and a token is found by hashing what the customer presents.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Final

__all__ = ["TOKEN_BYTES", "new_token", "token_hash", "token_matches"]

#: The random bytes in one token (256 bits).
TOKEN_BYTES: Final = 32
#: The longest text taken as a token; anything longer is refused before hashing.
TOKEN_TEXT_MAX: Final = 512


def new_token() -> str:
    """A new unguessable token (``secrets.token_urlsafe(32)``)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest of ``token`` (what storage keeps).

    >>> token_hash("abc")
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, hashes: Iterable[str]) -> bool:
    """Whether ``token`` hashes to one of ``hashes``, comparing each digest in constant
    time (``hmac.compare_digest``) and every one of them, so the time taken does not
    say which matched."""
    digest = token_hash(token)
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(digest, stored)
    return found
