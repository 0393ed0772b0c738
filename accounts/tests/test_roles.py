"""The role checks and their query conditions decide alike."""

from __future__ import annotations

from accounts import roles
from accounts.models import User


def test_the_query_conditions_agree_with_the_checks(
    employee_a, manager_a, manager_b, agent, provider_admin, outsider
):
    users = (employee_a, manager_a, manager_b, agent, provider_admin, outsider)
    for check, condition in (
        (roles.is_security_manager, roles.security_manager_filter()),
        (roles.is_provider_staff, roles.provider_staff_filter()),
    ):
        matched = set(User.objects.filter(condition).values_list("pk", flat=True))
        assert {user.pk for user in users if check(user)} == matched, check.__name__
    assert roles.is_security_manager(manager_a) and not roles.is_provider_staff(manager_a)
