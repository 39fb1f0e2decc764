"""SS58 addresses (the generic Substrate prefix 42, as Bittensor shows them), for generated input."""

import hashlib

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = ALPHABET[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def ss58_encode(public_key: bytes, prefix: int = 42) -> str:
    if len(public_key) != 32 or not 0 <= prefix < 64:
        raise ValueError("a 32-byte public key and a one-byte prefix (0..63)")
    payload = bytes([prefix]) + public_key
    checksum = hashlib.blake2b(b"SS58PRE" + payload, digest_size=64).digest()[:2]
    return base58(payload + checksum)
