"""Invitation tokens: random, hashed with SHA-256, compared against every stored hash."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from csdomain.surveys.tokens import new_token, token_hash, token_matches


def test_tokens_are_long_url_safe_and_distinct() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) == 43  # 32 bytes in URL-safe base64, unpadded
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_the_hash_is_sha256_hex() -> None:
    assert token_hash("token") == hashlib.sha256(b"token").hexdigest()
    assert len(token_hash(new_token())) == 64


@given(st.text(max_size=80), st.lists(st.text(max_size=80), max_size=4))
def test_a_token_matches_exactly_the_hashes_of_itself(token: str, others: list[str]) -> None:
    hashes = [token_hash(o) for o in others]
    assert token_matches(token, hashes) == (token in others)
    assert token_matches(token, [*hashes, token_hash(token)])


def test_nothing_matches_no_hashes() -> None:
    assert not token_matches(new_token(), [])
