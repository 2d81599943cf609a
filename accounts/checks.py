"""System checks: the one-time-code hasher is configured, and in the right place."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

INITIAL_HASHER = "accounts.hashers.InitialCodePasswordHasher"


@register(Tags.security)
def check_initial_code_hasher(app_configs, **kwargs):
    hashers = list(settings.PASSWORD_HASHERS)
    if INITIAL_HASHER not in hashers:
        return [
            Warning(
                f"{INITIAL_HASHER} is not in PASSWORD_HASHERS: one-time codes are hashed with the default "
                "hasher, and creating the accounts of a large organisation will take very long.",
                hint=f"Add {INITIAL_HASHER!r} to PASSWORD_HASHERS after the default hasher.",
                id="accounts.W001",
            )
        ]
    if hashers[0] == INITIAL_HASHER:
        return [
            Error(
                f"{INITIAL_HASHER} must not be the first of PASSWORD_HASHERS: it would hash every password "
                "cheaply and ignore case.",
                hint="Put the default hasher (PBKDF2PasswordHasher) first.",
                id="accounts.E001",
            )
        ]
    return []
