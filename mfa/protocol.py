"""The push device protocol shared by the portal and the reference authenticator.

No Django imports here: a phone app (or ``python -m mfa.authenticator``) needs only this.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

HEADER_DEVICE = "X-Portal-Device"
HEADER_TIMESTAMP = "X-Portal-Timestamp"
HEADER_NONCE = "X-Portal-Nonce"
HEADER_SIGNATURE = "X-Portal-Signature"

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256"


def canonical_request(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a device signs: method, path, timestamp, nonce and the body's SHA-256."""
    body_hash = hashlib.sha256(body or b"").hexdigest()
    return "\n".join([method.upper(), path, timestamp, nonce, body_hash]).encode()


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_public_key(pem: str):
    """(key, algorithm) for a PEM public key; ValueError for anything but Ed25519/P-256."""
    key = serialization.load_pem_public_key(pem.encode())
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, ED25519
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, ECDSA_P256
    raise ValueError("unsupported key type")


def verify_signature(pem: str, signature: bytes, message: bytes) -> bool:
    try:
        key, algorithm = load_public_key(pem)
        if algorithm == ED25519:
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def sign(private_key, message: bytes) -> bytes:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    return private_key.sign(message, ec.ECDSA(hashes.SHA256()))


def public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
