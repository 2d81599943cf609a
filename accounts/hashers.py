"""A cheaper hasher for one-time initial codes only, and how a code is checked.

The default hasher (PBKDF2, 1,000,000 iterations) costs about half a second per password on purpose.
Creating the accounts of a whole city (7,300 members) in one request would take an hour, so the
one-time codes printed on the slips are hashed with this hasher instead, at 20,000 iterations
(about 4 ms each). That is safe enough for what these hashes protect:

- a code is 10 random characters from a 31-letter alphabet, about 50 bits: even at 20,000 iterations
  a stolen hash takes a GPU years to crack, and the code stops mattering once replaced;
- a code is good for one thing only: the middleware sends whoever signs in with it to the
  password-change page until they choose their own password, which the default hasher hashes, and
  that password may not be the code in any spelling (accounts.forms);
- sign-in attempts are limited (accounts.throttle).

A code is never re-hashed as typed: Django would do so at the first sign-in (this hasher is not the
preferred one), turning the code into an ordinary password that no longer forgives case or dashes
and is no longer recognised as the code. accounts.backends checks codes with `matches_code` instead.

It must stay *after* the default in PASSWORD_HASHERS: the first entry hashes every other password,
and this one also forgives case, spaces and dashes, which is right for a code read off paper and
wrong for a password.
"""

import unicodedata

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password

# The alphabet of the codes: capitals and digits without the look-alikes 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def normalise_code(text):
    """What the user typed, as the code was generated: capitals, no spaces or dashes of any kind
    (a phone's non-breaking space or en dash included), full-width letters folded."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Pd" and ch != "\u2212")


def printed_code(text):
    """The code as printed on the slip ("ABCD-EFGH-JK"), from however it was typed."""
    raw = normalise_code(text)
    if len(raw) != CODE_LENGTH:
        return raw
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class InitialCodePasswordHasher(PBKDF2PasswordHasher):
    algorithm = "initial_pbkdf2"
    iterations = 20_000

    def encode(self, password, salt, iterations=None):
        # "abcd efgh jk" and "ABCD-EFGH-JK" are the same code: an elderly member types what is printed.
        return super().encode(normalise_code(password), salt, iterations)


def is_code_hash(encoded):
    """Whether a stored password is a one-time code's hash."""
    return (encoded or "").startswith(f"{InitialCodePasswordHasher.algorithm}$")


def matches_code(text, encoded):
    """Whether `text` is, however spelt, the code or password hashed in `encoded`; never re-hashes it
    (no `setter`). A code hashed by another hasher (the code hasher not configured) was hashed as
    printed, so that spelling is tried too."""
    if is_code_hash(encoded):
        return check_password(normalise_code(text), encoded)
    return check_password(text, encoded) or check_password(printed_code(text), encoded)
