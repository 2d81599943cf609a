"""The sign-in backend: Django's ModelBackend, except that a one-time code is checked as printed and
never re-hashed.

Django re-hashes a password at sign-in whenever its hasher is not the preferred one, with the text
as it was typed. A one-time code would then turn, at its first use, into an ordinary password equal
to what the member typed ("abcd efgh jk"), no longer forgiving case, spaces or dashes, and no longer
recognisable as a code when the member chooses a password. So a code is checked here as printed
(`normalise_code`) without that upgrade: it stays a code until the member chooses their own password
(accounts.middleware sends them to do so before anything else).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .hashers import is_code_hash, matches_code


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            # As ModelBackend: hash anyway, so that an unknown username takes as long as a wrong password.
            User().set_password(password)
            return None
        if is_code_hash(user.password):
            correct = matches_code(password, user.password)
        else:
            correct = user.check_password(password)
        if correct and self.user_can_authenticate(user):
            return user
        return None
