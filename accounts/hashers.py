"""A cheap hasher made for one-time initial codes only, and how a code is checked.

The default hasher (PBKDF2, 1,000,000 iterations) costs about half a second per password on purpose: a
password is chosen by a person, often guessable, and kept for years. A one-time code is none of these,
so the codes printed on the slips are hashed with this hasher instead, at 1,000 PBKDF2-SHA256
iterations (about 0.3 ms each: the 7,300 accounts of a city in about two seconds of hashing, where
20,000 iterations took 47 s of processor time). That is enough for what these hashes protect:

- a code is 10 random characters from a 31-letter alphabet, 31**10 = 8.2e14, about 50 bits, drawn by
  `secrets`: nothing in it can be guessed from a dictionary, so the only attack on a stolen hash is to
  try them all. At 1,000 iterations (2,000 SHA-256 compressions a try), a GPU that does ten billion
  SHA-256 a second needs on average 8.2e14 / 2 * 2,000 / 1e10 s, about 2.6 years, for one code, with a
  salt of its own per account, so nothing is shared between accounts;
- a code is short-lived: it is good for the first sign-in only. The middleware sends whoever signs in
  with it to the password-change page until they choose their own password (hashed by the default
  hasher, and never the code in any spelling, accounts.forms), and the code's hash is gone then; a
  lost slip is replaced by a new code (`member_account_reset_code`), which replaces the hash too;
- online, sign-in attempts are limited (accounts.throttle): a handful of tries an hour per account
  against 8.2e14 codes.

A salted single HMAC-SHA256 would be cheaper still, but would bring the GPU's years down to hours;
1,000 iterations keep them at years and already make the hashing a small part of creating the
accounts. Codes hashed earlier at 20,000 iterations still verify (PBKDF2 reads the count from the
hash) and are still codes (same algorithm name, `is_code_hash`).

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
    iterations = 1_000  # the module's docstring says why that is enough for a one-time code

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
