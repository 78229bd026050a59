"""Known devices: a phone that logged in before keeps its own lockout.

The per-phone lockout (``api.community.auth.PhoneLockout``) stops password
guessing from many addresses, but it also lets anyone who knows a
volunteer's number lock them out of their own phone for
``FENGLING_LOGIN_LOCK_MINUTES``, by typing wrong passwords on purpose. The
usual answer (OWASP's "device cookies") is used here: a successful login on
the pages leaves a signed *device token* for that number in a cookie; a
later attempt that presents a valid token for the number it types is
counted on that device's own counter, not on the number's shared one. So:

- a stranger's wrong passwords (no token) lock the number for strangers
  only; its owner, on the phone they used before, still logs in;
- guessing on a stolen-cookie-free device stays as slow as before: the
  shared counter is untouched by this module;
- a device's own wrong passwords lock that device (same limits).

A token is ``<nonce>.<mac>``, the MAC an HMAC-SHA256 of the number and
nonce under the deployment's secret key: it cannot be made for another
number or forged, and it carries no personal data. One cookie holds the
tokens of the last few numbers that logged in on the device (a phone shared
in a family). Pure functions; the cookie itself is ``web.session_cookie``'s.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Numbers remembered per device, newest first (a family's shared phone).
MAX_REMEMBERED = 4
# Characters in a token's MAC: 128 bits, hex.
MAC_CHARS = 32
# Longer is not a token of ours (a nonce is 16 characters): dropped unread.
MAX_TOKEN_CHARS = 64
_SEPARATOR = "~"


def _mac(secret_key: str, phone: str, nonce: str) -> str:
    message = f"fengling-device:{phone}:{nonce}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:MAC_CHARS]


def _tokens(cookie_value: str | None) -> list[str]:
    if not cookie_value:
        return []
    tokens = cookie_value.split(_SEPARATOR, MAX_REMEMBERED * 2)[: MAX_REMEMBERED * 2]
    return [token for token in tokens if 0 < len(token) <= MAX_TOKEN_CHARS and "." in token]


def device_of(secret_key: str, phone: str, cookie_value: str | None) -> str | None:
    """The nonce of the cookie's valid token for ``phone`` (normalised), or
    None: no cookie, no token for this number, or a forged one."""
    for token in _tokens(cookie_value):
        nonce, _, mac = token.partition(".")
        if nonce and hmac.compare_digest(mac, _mac(secret_key, phone, nonce)):
            return nonce
    return None


def remember(secret_key: str, phone: str, cookie_value: str | None) -> str:
    """The cookie's new value after ``phone`` logged in on this device: its
    token first (the one it had, else a new one), then the other numbers'
    tokens that are still valid-looking, at most ``MAX_REMEMBERED``."""
    nonce = device_of(secret_key, phone, cookie_value) or secrets.token_urlsafe(12)
    mine = f"{nonce}.{_mac(secret_key, phone, nonce)}"
    others = [token for token in _tokens(cookie_value) if token != mine]
    return _SEPARATOR.join([mine, *others][:MAX_REMEMBERED])
