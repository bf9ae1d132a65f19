"""STAC ``file:checksum`` values: self-describing multihashes, parsed once at the boundary.

A multihash is ``<varint code><varint length><digest>`` written as hex, e.g. ``1220…`` for
sha2-256 or ``d510…`` for md5. Only the algorithms that ``hashlib`` provides are accepted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from eoaccess.errors import InvalidInputError

# multihash code -> hashlib name (the codes are fixed by the multicodec table)
_ALGORITHMS: dict[int, str] = {
    0x11: "sha1",
    0x12: "sha256",
    0x13: "sha512",
    0x14: "sha3_512",
    0x15: "sha3_384",
    0x16: "sha3_256",
    0x17: "sha3_224",
    0xD5: "md5",
    0xB220: "blake2b",  # blake2b-256: hashlib.blake2b(digest_size=32)
}


@dataclass(frozen=True)
class Checksum:
    """An expected digest of a file."""

    algorithm: str
    """hashlib name of the algorithm (``sha256``, ``md5``, …)."""
    digest: bytes
    """The expected raw digest."""

    def new_hasher(self) -> hashlib._Hash:
        """A fresh hashlib object that computes this checksum's algorithm."""
        if self.algorithm == "blake2b":
            return hashlib.blake2b(digest_size=len(self.digest))
        return hashlib.new(self.algorithm)

    def matches(self, digest: bytes) -> bool:
        """True when ``digest`` equals the expected one."""
        return digest == self.digest

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.digest.hex()}"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def parse_multihash(text: str) -> Checksum:
    """Parse a hex multihash (``file:checksum``) into a :class:`Checksum`; raise InvalidInputError.

    md5 is ``d50110…`` (0xd5 is a two-byte varint); the common unencoded ``d510…`` is accepted too.
    """
    compact = text.strip().lower()
    if compact.startswith("d510") and len(compact) == 36:
        try:
            return Checksum("md5", bytes.fromhex(compact[4:]))
        except ValueError:
            pass
    try:
        raw = bytes.fromhex(text.strip())
        code, pos = _varint(raw, 0)
        length, pos = _varint(raw, pos)
    except ValueError:
        raise InvalidInputError(f"file:checksum {text!r} is not a hex multihash") from None
    digest = raw[pos:]
    if code not in _ALGORITHMS:
        raise InvalidInputError(f"file:checksum {text!r} uses unsupported multihash code {code:#x}")
    if len(digest) != length:
        raise InvalidInputError(
            f"file:checksum {text!r} says {length} digest bytes but has {len(digest)}"
        )
    return Checksum(_ALGORITHMS[code], digest)


def multihash_hex(algorithm: str, digest: bytes) -> str:
    """Encode ``digest`` of ``algorithm`` (hashlib name) as a hex multihash (for tests, manifests)."""
    codes = {name: code for code, name in _ALGORITHMS.items()}
    code = codes[algorithm]
    out = bytearray()
    for value in (code, len(digest)):
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return (bytes(out) + digest).hex()
