"""The role checks, their query condition and their loading for many users decide alike."""

from __future__ import annotations

from accounts import roles
from accounts.models import User


def test_the_query_condition_agrees_with_the_check(
    employee_a, manager_a, manager_b, agent, provider_admin, outsider
):
    users = (employee_a, manager_a, manager_b, agent, provider_admin, outsider)
    matched = set(User.objects.filter(roles.provider_staff_filter()).values_list("pk", flat=True))
    assert {user.pk for user in users if roles.is_provider_staff(user)} == matched
    assert roles.is_security_manager(manager_a) and not roles.is_provider_staff(manager_a)


def test_the_strong_factor_condition_agrees_with_the_check(
    employee_a, manager_a, manager_b, agent, provider_admin, outsider
):
    users = (employee_a, manager_a, manager_b, agent, provider_admin, outsider)
    condition = roles.requires_strong_second_factor_filter()
    matched = set(User.objects.filter(condition).values_list("pk", flat=True))
    assert {user.pk for user in users if roles.requires_strong_second_factor(user)} == matched
    assert matched == {manager_a.pk, manager_b.pk, agent.pk, provider_admin.pk}
    assert User.objects.filter(condition).count() == len(matched)  # one row each


def test_roles_of_many_users_load_in_one_query(
    django_assert_num_queries, employee_a, manager_a, agent, provider_admin, outsider
):
    pks = [user.pk for user in (employee_a, manager_a, agent, provider_admin, outsider)]
    checks = (roles.is_security_manager, roles.is_provider_staff, roles.is_provider_admin)
    expected = {
        user.pk: [check(user) for check in checks] for user in User.objects.filter(pk__in=pks)
    }
    users = list(User.objects.filter(pk__in=pks)) * 2  # the same author on several messages
    with django_assert_num_queries(1):
        roles.load_roles([*users, None])
        loaded = {user.pk: [check(user) for check in checks] for user in users}
    assert loaded == expected
    assert expected[manager_a.pk] == [True, False, False]
    assert expected[agent.pk][1] and expected[provider_admin.pk][2]
