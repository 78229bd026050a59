"""Base45 (RFC 9285): bytes as text in a QR code's alphanumeric mode.

A QR code stores its 45-character alphanumeric set at 5.5 bits a
character, against 8 for arbitrary bytes, so base45 text (1.5 characters
a byte) makes a smaller code than base64 in byte mode (1.33 characters at
8 bits). The EU's COVID certificates use it for the same reason: a signed
token that must scan off a worn phone screen.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {character: value for value, character in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """Text that no bytes encode to."""


def encode(data: bytes) -> str:
    out: list[str] = []
    for start in range(0, len(data) - 1, 2):
        number = data[start] * 256 + data[start + 1]
        number, c = divmod(number, 45)
        e, d = divmod(number, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    """The bytes ``text`` encodes; ``Base45Error`` for a character outside
    the alphabet, a dangling character, or a group above its byte range."""
    if len(text) % 3 == 1:
        raise Base45Error("base45 text cannot have a length of 3n + 1")
    try:
        values = [_VALUES[character] for character in text]
    except KeyError as error:
        raise Base45Error(f"not a base45 character: {error.args[0]!r}") from None
    out = bytearray()
    for start in range(0, len(values), 3):
        group = values[start : start + 3]
        number = sum(value * 45**power for power, value in enumerate(group))
        if len(group) == 3:
            if number > 0xFFFF:
                raise Base45Error("a base45 group above two bytes")
            out += number.to_bytes(2, "big")
        else:
            if number > 0xFF:
                raise Base45Error("a base45 group above one byte")
            out.append(number)
    return bytes(out)
