"""Argon2id with parameters sized for our 2-core machines (see README, "Password hashing")."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    """OWASP's recommended Argon2id minimum: 19 MiB, 2 iterations, 1 lane.

    Django's defaults (100 MiB, 8 lanes) cost ~300 ms of CPU per hash here and would cap the
    portal near 4 sign-ins per second; these cost ~30 ms. Hashes made with other parameters
    are upgraded at the next sign-in because ``must_update`` compares them.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
