"""A cheaper hasher for one-time initial codes only.

The default hasher (PBKDF2, 1,000,000 iterations) costs about half a second per password on purpose.
Creating the accounts of a whole city (7,300 members) in one request would take an hour, so the
one-time codes printed on the slips are hashed with this hasher instead, at 20,000 iterations
(about 4 ms each). That is safe enough for what these hashes protect:

- a code is 10 random characters from a 31-letter alphabet, about 50 bits: even at 20,000 iterations
  a stolen hash takes a GPU years to crack, and the code stops mattering once used;
- a code is good for one thing only: the middleware sends whoever signs in with it to the
  password-change page until they choose their own password, which the default hasher hashes;
- on the first successful sign-in Django re-hashes the password with the default (first) hasher
  anyway, because this hasher is not the preferred one.

It must stay *after* the default in PASSWORD_HASHERS: the first entry hashes every other password,
and this one also forgives case, spaces and dashes, which is right for a code read off paper and
wrong for a password.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher

# The alphabet of the codes: capitals and digits without the look-alikes 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normalise_code(text):
    """What the user typed, as the code was generated: capitals, no spaces or dashes."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t")


class InitialCodePasswordHasher(PBKDF2PasswordHasher):
    algorithm = "initial_pbkdf2"
    iterations = 20_000

    def encode(self, password, salt, iterations=None):
        # "abcd efgh jk" and "ABCD-EFGH-JK" are the same code: an elderly member types what is printed.
        return super().encode(normalise_code(password), salt, iterations)
