"""Unguessable codes for sessions and participants."""

import secrets

CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10


def new_code(length: int = CODE_LENGTH) -> str:
    """A random code from ``secrets``: 10 characters give 32**10 (about 10**15) values."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
