from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .models import User


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
        # Every request checks the company's password policy: load it with the user.
        try:
            user = User._default_manager.select_related("company").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
