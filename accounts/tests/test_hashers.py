from __future__ import annotations

from django.contrib.auth.hashers import check_password

from accounts.hashers import PortalArgon2PasswordHasher


def test_it_uses_argon2id_at_least_at_owasp_strength():
    hasher = PortalArgon2PasswordHasher()
    encoded = hasher.encode("a long enough password", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.memory_cost >= 19 * 1024
    assert hasher.time_cost >= 2
    assert hasher.parallelism == 1
    assert check_password("a long enough password", encoded)


def test_portal_hasher_comes_first(settings):
    assert settings.PASSWORD_HASHERS[-3] == "accounts.hashers.PortalArgon2PasswordHasher" or (
        "accounts.hashers.PortalArgon2PasswordHasher" in settings.PASSWORD_HASHERS
    )
    from portal import settings as portal_settings

    assert portal_settings.PASSWORD_HASHERS[0] == "accounts.hashers.PortalArgon2PasswordHasher"
