"""Reference authenticator: stands in for the phone app over real HTTP.

    python -m mfa.authenticator enroll "<enrollment URI>" [--name NAME] [--key ed25519|ecdsa-p256]
    python -m mfa.authenticator pending
    python -m mfa.authenticator approve <number> [--id CHALLENGE]
    python -m mfa.authenticator deny [--id CHALLENGE]
    python -m mfa.authenticator totp "<otpauth URI>"

Keys live in a local JSON file (``--file``, default ``$PORTAL_AUTHENTICATOR_FILE`` or
``~/.portal-authenticator.json``, mode 0600). The protocol is described in docs/push-api.md.
No Django here: this is what a phone app does.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from mfa import protocol

DEFAULT_FILE = os.environ.get(
    "PORTAL_AUTHENTICATOR_FILE", str(Path.home() / ".portal-authenticator.json")
)


class AuthenticatorError(Exception):
    pass


# --- State file ---------------------------------------------------------------------------------


def _load(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise AuthenticatorError(f"no enrolled device in {path}; run enroll first") from None


def _save(path: str, state: dict) -> None:
    file = Path(path)
    file.write_text(json.dumps(state, indent=2))
    file.chmod(0o600)


def _private_key(state: dict):
    return serialization.load_pem_private_key(state["private_key"].encode(), password=None)


# --- HTTP ---------------------------------------------------------------------------------------


def _request(url: str, method: str = "GET", body: bytes = b"", headers: dict | None = None):
    if urlsplit(url).scheme not in ("http", "https"):
        raise AuthenticatorError("only http(s) URLs are supported")
    request = urllib.request.Request(url, data=body or None, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            message = error.reason
        raise AuthenticatorError(f"HTTP {error.code}: {message}") from None


def _signed(state: dict, url: str, method: str = "GET", payload: dict | None = None):
    body = json.dumps(payload).encode() if payload is not None else b""
    timestamp = str(int(time.time()))
    nonce = secrets.token_urlsafe(18)
    path = urlsplit(url).path
    message = protocol.canonical_request(method, path, timestamp, nonce, body)
    signature = protocol.b64encode(protocol.sign(_private_key(state), message))
    headers = {
        protocol.HEADER_DEVICE: state["device_id"],
        protocol.HEADER_TIMESTAMP: timestamp,
        protocol.HEADER_NONCE: nonce,
        protocol.HEADER_SIGNATURE: signature,
    }
    return _request(url, method, body, headers)


# --- Commands -----------------------------------------------------------------------------------


def enroll(uri: str, name: str = "push", path: str = DEFAULT_FILE, key_type: str = "ed25519"):
    """Create a key pair, send the public key with the one-time token, keep the private key."""
    parts = urlsplit(uri)
    token = parse_qs(parts.query).get("token", [""])[0]
    if not token:
        raise AuthenticatorError("the enrollment URI has no token")
    if key_type == protocol.ECDSA_P256:
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    endpoint = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    body = json.dumps({"token": token, "name": name, "public_key": protocol.public_pem(key)})
    answer = _request(endpoint, "POST", body.encode())
    state = {
        "device_id": answer["device_id"],
        "name": answer.get("name", name),
        "account": answer.get("account", ""),
        "portal": answer.get("portal", ""),
        "challenges_url": answer["challenges_url"],
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }
    _save(path, state)
    return state


def pending(path: str = DEFAULT_FILE) -> list[dict]:
    state = _load(path)
    return _signed(state, state["challenges_url"])["challenges"]


def _answer(path: str, payload: dict, challenge_id: str | None) -> str:
    state = _load(path)
    challenges = _signed(state, state["challenges_url"])["challenges"]
    if challenge_id is None:
        if not challenges:
            raise AuthenticatorError("no pending sign-in request")
        challenge_id = challenges[-1]["id"]
    url = f"{state['challenges_url']}/{challenge_id}/answer"
    return _signed(state, url, "POST", payload)["status"]


def approve(number: int, path: str = DEFAULT_FILE, challenge_id: str | None = None) -> str:
    return _answer(path, {"decision": "approve", "number": int(number)}, challenge_id)


def deny(path: str = DEFAULT_FILE, challenge_id: str | None = None) -> str:
    return _answer(path, {"decision": "deny"}, challenge_id)


def totp_code(uri: str, at: float | None = None) -> str:
    """The current code of an otpauth://totp URI (RFC 6238, SHA-1)."""
    parts = urlsplit(uri)
    if parts.scheme != "otpauth" or parts.netloc != "totp":
        raise AuthenticatorError("not an otpauth://totp URI")
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    secret = params.get("secret", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digits = int(params.get("digits", 6))
    period = int(params.get("period", 30))
    counter = int((time.time() if at is None else at) // period)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mfa.authenticator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--file", default=DEFAULT_FILE, help="where the device keys are kept")
    commands = parser.add_subparsers(dest="command", required=True)
    enrol_cmd = commands.add_parser("enroll", help="enrol this authenticator as a push device")
    enrol_cmd.add_argument("uri")
    enrol_cmd.add_argument("--name", default="push")
    enrol_cmd.add_argument(
        "--key", default="ed25519", choices=[protocol.ED25519, protocol.ECDSA_P256]
    )
    commands.add_parser("pending", help="list pending sign-in requests")
    approve_cmd = commands.add_parser("approve", help="approve with the number the browser shows")
    approve_cmd.add_argument("number", type=int)
    approve_cmd.add_argument("--id")
    deny_cmd = commands.add_parser("deny", help="deny a sign-in request")
    deny_cmd.add_argument("--id")
    totp_cmd = commands.add_parser("totp", help="print the current TOTP code of an otpauth URI")
    totp_cmd.add_argument("uri")
    args = parser.parse_args(argv)
    try:
        if args.command == "enroll":
            state = enroll(args.uri, args.name, args.file, args.key)
            print(f"Enrolled “{state['name']}” for {state['account']} at {state['portal']}.")
        elif args.command == "pending":
            items = pending(args.file)
            if not items:
                print("No pending sign-in requests.")
            for item in items:
                print(
                    f"{item['id']}  {item['portal']} · {item['account']} · {item['browser']} · "
                    f"{item['ip']} · {item['created_at']}  numbers: "
                    + " ".join(str(n) for n in item["choices"])
                )
        elif args.command == "approve":
            print(approve(args.number, args.file, args.id))
        elif args.command == "deny":
            print(deny(args.file, args.id))
        elif args.command == "totp":
            print(totp_code(unquote(args.uri)))
    except AuthenticatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
