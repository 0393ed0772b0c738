"""Roles, decided in one place: employee, security manager, support agent, provider admin."""

from __future__ import annotations

SECURITY_MANAGERS = "Security managers"
SUPPORT_AGENTS = "Support agents"
PROVIDER_ADMINS = "Provider admins"
ALL_GROUPS = (SECURITY_MANAGERS, SUPPORT_AGENTS, PROVIDER_ADMINS)


def _group_names(user) -> set[str]:
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.pk else set()
        user._role_group_names = cached
    return cached


def is_provider_admin(user) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or PROVIDER_ADMINS in _group_names(user))
    )


def is_support_agent(user) -> bool:
    return bool(
        user.is_authenticated and (SUPPORT_AGENTS in _group_names(user) or is_provider_admin(user))
    )


def is_provider_staff(user) -> bool:
    return is_support_agent(user) or is_provider_admin(user)


def provider_staff_filter(path: str = ""):
    """is_provider_staff as a query condition on users; ``path`` leads to them ("author__")."""
    from django.db.models import Q

    return Q(**{f"{path}is_superuser": True}) | Q(
        **{f"{path}groups__name__in": (SUPPORT_AGENTS, PROVIDER_ADMINS)}
    )


def load_roles(users) -> None:
    """Ready the role checks of many users (a conversation's authors) in one query, instead
    of one per user. Kept simple on purpose: as columns of a larger query the same rule cost
    PostgreSQL about 2 ms of planning per page."""
    from django.contrib.auth import get_user_model

    users = [user for user in users if user is not None and user.pk]
    if not users:
        return
    memberships = get_user_model().groups.through.objects.filter(
        user_id__in={user.pk for user in users}
    )
    names: dict[int, set[str]] = {}
    for user_id, name in memberships.values_list("user_id", "group__name"):
        names.setdefault(user_id, set()).add(name)
    for user in users:
        user._role_group_names = names.get(user.pk, set())


def is_security_manager(user) -> bool:
    return bool(
        user.is_authenticated and user.company_id and SECURITY_MANAGERS in _group_names(user)
    )


def requires_strong_second_factor(user) -> bool:
    """Email codes are never enough for managers, provider staff and admins."""
    return is_security_manager(user) or is_provider_staff(user) or user.is_staff


def requires_strong_second_factor_filter():
    """requires_strong_second_factor as a query condition on users. Memberships are a
    subquery, so that a user in several groups stays one row (counts, annotations)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Q

    memberships = get_user_model().groups.through.objects.filter(user_id=OuterRef("pk"))
    staff_groups = memberships.filter(group__name__in=(SUPPORT_AGENTS, PROVIDER_ADMINS))
    manager_group = memberships.filter(group__name=SECURITY_MANAGERS)
    return (
        Q(is_staff=True)
        | Q(is_superuser=True)
        | Exists(staff_groups)
        | (Q(company__isnull=False) & Exists(manager_group))
    )


def role_label(user) -> str:
    from django.utils.translation import gettext as _

    if is_provider_admin(user):
        return _("Provider admin")
    if is_support_agent(user):
        return _("Support agent")
    if is_security_manager(user):
        return _("Security Manager")
    return _("Employee") if user.company_id else _("Customer")
