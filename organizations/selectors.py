"""Reads shared by screens and the admin."""

from __future__ import annotations

from django.db.models import Q

from .vietnamese import fold


def words_start_with(field: str, text: str | None) -> Q | None:
    """A filter on a folded name field: some word of it starts with the folded text.

    "nguyen van" and "Nguyễn Văn" find "Nguyễn Văn An"; "yen" finds "Lê Thị Yến" and not "Nguyễn".
    """
    folded = fold(text)
    if not folded:
        return None
    return Q(**{f"{field}__startswith": folded}) | Q(**{f"{field}__contains": f" {folded}"})
