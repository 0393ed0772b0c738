"""Queries per page on a benchmark data set, through Django's test client.

    python -m bench.queries --data var/bench/large.json

Each person signs in through the real sign-in wizard (the manager and the agent with their
TOTP code), every page is requested once to warm the caches, then once more while the
queries are counted: the second figure is what a page costs in steady state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _pages(data: dict) -> list[tuple[str, str]]:
    ticket = data["employee"]["ticket_id"]
    queue_filter = data.get("queue_filter", "")
    return [
        ("employee", "/dashboard/"),
        ("employee", "/tickets/"),
        ("employee", "/tickets/?status=open"),
        ("employee", f"/tickets/{ticket}/"),
        ("employee", "/tickets/new/"),
        ("employee", "/account/profile/"),
        ("employee", "/account/security/"),
        ("employee", "/account/security/sessions/"),
        ("employee", "/account/security/two-factor/"),
        ("manager", "/dashboard/"),
        ("manager", "/manage/"),
        ("manager", "/manage/log/"),
        ("manager", "/manage/policies/"),
        ("manager", "/tickets/"),
        ("agent", "/dashboard/"),
        ("agent", "/support/"),
        ("agent", f"/support/{queue_filter}"),
        ("agent", "/support/?status=all&sort=-updated&page=3"),
        ("agent", f"/tickets/{ticket}/"),
    ]


def _signed_in_client(person: dict, password: str):
    from django.test import Client

    from bench.load import totp, wait_for_next_code

    client = Client(HTTP_HOST="127.0.0.1")
    login = "/account/login/"
    client.post(
        login,
        {"login_view-current_step": "identify", "identify-username": person["username"]},
        secure=True,
    )
    response = client.post(
        login, {"login_view-current_step": "auth", "auth-password": password}, secure=True
    )
    if person.get("totp_key"):
        # A code already used (by the load run) is refused: wait for the next period.
        for _attempt in range(3):
            response = client.post(
                login,
                {"login_view-current_step": "token", "token-otp_token": totp(person["totp_key"])},
                secure=True,
            )
            if response.status_code == 302:
                break
            wait_for_next_code()
    if response.status_code != 302:
        raise SystemExit(f"sign-in of {person['username']} answered {response.status_code}")
    return client


def count(data: dict, password: str) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = {
        role: _signed_in_client(data[role], password) for role in ("employee", "manager", "agent")
    }
    figures = []
    for role, path in _pages(data):
        client = clients[role]
        client.get(path, secure=True)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)
        figures.append(
            {
                "role": role,
                "path": path,
                "status": response.status_code,
                "queries": len(queries),
                "sql": [query["sql"][:300] for query in queries.captured_queries],
            }
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the JSON written by bench.data")
    parser.add_argument("--out", help="write the figures here (default: stdout)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from bench.data import BENCH_PASSWORD

    with open(args.data) as handle:
        data = json.load(handle)
    figures = count(data, BENCH_PASSWORD)
    text = json.dumps(figures, indent=2)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
