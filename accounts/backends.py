from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db.models import Aggregate, CharField, OuterRef, Subquery

from portal.prepared import PreparedQuery

from .models import User

GROUP_SEPARATOR = "|"


class _JoinedNames(Aggregate):
    """The names joined by GROUP_SEPARATOR: STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "STRING_AGG"
    template = f"%(function)s(%(expressions)s, '{GROUP_SEPARATOR}')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def _group_names():
    memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    return Subquery(
        memberships.order_by()
        .values("user_id")
        .annotate(names=_JoinedNames("group__name"))
        .values("names")
    )


# Every request checks the company's password policy and the user's roles: load the company and
# the group names (for accounts.roles) with the user, in one query compiled once per thread.
_USER_WITH_COMPANY_AND_ROLES = PreparedQuery(
    lambda pk: (
        User._default_manager.select_related("company")
        .annotate(role_group_names=_group_names())
        .filter(pk=pk)
    ),
    pk=int,
)


class UsernameOrEmailBackend(ModelBackend):
    """Sign-in by user name or email address, in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User.objects.find_by_identifier(username)
        if user is None:
            User().set_password(password)  # spend the same time as for a real account
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        if user_id is None:
            return None
        users = _USER_WITH_COMPANY_AND_ROLES(pk=user_id)
        if not users:
            return None
        user = users[0]
        names = user.role_group_names
        user._role_group_names = set(names.split(GROUP_SEPARATOR)) if names else set()
        return user if self.user_can_authenticate(user) else None
