from .access import scope_for


def navigation(request):
    """The user's scope, for the navigation bar; evaluated lazily by the templates that use it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"scope": scope_for(user)}
