import pytest

from accounts.checks import INITIAL_HASHER


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """As in tests/conftest.py (MD5 for every password), plus the real one-time-code hasher, so that
    the codes are hashed here as in production (well under a millisecond each)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", INITIAL_HASHER]
