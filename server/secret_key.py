"""The secret key that signs the admin cookie, chat tokens and secure room links.

Production (``OTREE_PRODUCTION`` set) needs a real one, from ``OTREE_SECRET_KEY`` or the
project's ``settings.SECRET_KEY``: an empty key, one of the defaults that shipped in a sample
``settings.py``, or one shorter than :data:`MIN_SECRET_KEY_LENGTH` characters refuses to start.
A development server makes its own random key once per install, in ``<project>/.grove_secret``
(mode 0600, left out of the repository by ``.gitignore``), so it never signs with a key that
anyone who reads the repository knows. Every worker and every restart reads the same file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from server.errors import ConfigurationError

SECRET_FILE_NAME = ".grove_secret"
MIN_SECRET_KEY_LENGTH = 32
# Keys that were published in a sample settings.py: known to everyone, so never a secret.
PUBLISHED_SECRET_KEYS = frozenset({"grove-development-secret-key-change-me"})
HOW_TO_SET = (
    "Set OTREE_SECRET_KEY in the environment to a random value of at least "
    f"{MIN_SECRET_KEY_LENGTH} characters, the same on every worker and host, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
)


def is_placeholder(secret_key: str | None) -> bool:
    """Is this no key at all, or a key published in a sample settings.py?"""
    return not secret_key or secret_key in PUBLISHED_SECRET_KEYS


def check_production_secret_key(secret_key: str) -> None:
    """ConfigurationError (saying how to set OTREE_SECRET_KEY) unless the key may sign in
    production: not empty, not published, at least MIN_SECRET_KEY_LENGTH characters."""
    if not secret_key:
        problem = "no secret key is set"
    elif secret_key in PUBLISHED_SECRET_KEYS:
        problem = "the secret key is the published default, so anyone can forge admin cookies"
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problem = f"the secret key has only {len(secret_key)} characters"
    else:
        return
    raise ConfigurationError(f"OTREE_PRODUCTION is set but {problem}. {HOW_TO_SET}")


def development_secret_key(root: Path) -> str:
    """This install's random key, from ``root/.grove_secret``, created on first use.

    Created atomically (written to a private temporary file, then hard-linked into place), so
    workers starting at once all end up with the one key that won. Raises ConfigurationError
    when the file cannot be read or written.
    """
    path = Path(root) / SECRET_FILE_NAME
    existing = _read(path)
    if existing is not None:
        return existing
    temporary = path.with_name(f"{SECRET_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another worker was first: use its key
            os.link(temporary, path)
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot create the development secret key ({exc.strerror}). {HOW_TO_SET}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    created = _read(path)
    if created is None:
        raise ConfigurationError(f"{path}: holds no usable secret key; delete it. {HOW_TO_SET}")
    return created


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{path}: cannot read the secret key ({exc}). {HOW_TO_SET}"
        ) from None
    return text if len(text) >= MIN_SECRET_KEY_LENGTH else None


MIN_REST_KEY_LENGTH = 16


def check_production_rest_key(rest_key: str | None) -> None:
    """ConfigurationError unless OTREE_REST_KEY, when set, is long enough to resist guessing
    in production (at least MIN_REST_KEY_LENGTH characters): the API takes as many guesses
    as a client sends, and a key like ``k`` is found in a few hundred."""
    if rest_key and len(rest_key) < MIN_REST_KEY_LENGTH:
        raise ConfigurationError(
            f"OTREE_PRODUCTION is set but OTREE_REST_KEY has only {len(rest_key)} characters; "
            f"use at least {MIN_REST_KEY_LENGTH} random ones "
            "(python -c 'import secrets; print(secrets.token_urlsafe(24))')."
        )
