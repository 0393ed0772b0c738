"""How a User-Agent is named in activity lists, emails and the authenticator app."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            ("Chrome 124", "Windows 10"),
        ),
        ("python-requests/2.32.3", ("Python Requests 2", "")),
        ("portal-authenticator/1.0", ("", "")),  # the parser's "Other" is no name to show
        ("", ("", "")),
    ],
)
def test_a_browser_and_system_the_parser_does_not_know_are_left_unnamed(user_agent, expected):
    from accounts.sessions_service import describe_user_agent

    assert describe_user_agent(user_agent) == expected
