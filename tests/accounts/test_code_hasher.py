"""The one-time-code hasher: cheap for new codes, still verifying the codes hashed before at 20,000
iterations, and never the hasher of an ordinary password."""

import pytest
from django.conf import settings as project_settings
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password

from accounts.hashers import InitialCodePasswordHasher, is_code_hash, matches_code
from accounts.services import new_code
from config import settings as config_settings

OLD_ITERATIONS = 20_000


def test_a_new_code_is_hashed_at_the_cheap_count_and_verifies_however_spelt():
    code = new_code()
    encoded = make_password(code, hasher=InitialCodePasswordHasher.algorithm)
    assert encoded.startswith(f"initial_pbkdf2${InitialCodePasswordHasher.iterations}$")
    assert InitialCodePasswordHasher.iterations == 1_000
    assert is_code_hash(encoded)
    assert matches_code(code, encoded)
    assert matches_code(code.lower().replace("-", " "), encoded)


def test_a_code_hashed_before_at_20000_iterations_still_verifies_and_is_still_a_code():
    hasher = InitialCodePasswordHasher()
    code = new_code()
    old = hasher.encode(code, hasher.salt(), OLD_ITERATIONS)
    assert old.startswith(f"initial_pbkdf2${OLD_ITERATIONS}$")
    assert identify_hasher(old).algorithm == "initial_pbkdf2"
    assert is_code_hash(old)
    assert matches_code(code, old)
    assert matches_code(code.replace("-", ""), old)


@pytest.mark.parametrize("iterations", [1_000, OLD_ITERATIONS])
def test_a_wrong_code_is_refused(iterations):
    hasher = InitialCodePasswordHasher()
    code, other = new_code(), new_code()
    encoded = hasher.encode(code, hasher.salt(), iterations)
    assert other != code
    assert not matches_code(other, encoded)
    assert not matches_code(code[:-1], encoded)
    assert not matches_code("", encoded)


def test_the_code_hasher_is_never_the_default():
    """The first hasher hashes every other password: the project's is the full-strength PBKDF2."""
    assert config_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert "accounts.hashers.InitialCodePasswordHasher" in config_settings.PASSWORD_HASHERS[1:]
    assert get_hasher("default").algorithm != InitialCodePasswordHasher.algorithm
    assert project_settings.PASSWORD_HASHERS[0] != "accounts.hashers.InitialCodePasswordHasher"


def test_an_ordinary_password_hash_is_not_a_code():
    assert not is_code_hash(make_password("a chosen password"))
    assert not is_code_hash("")
