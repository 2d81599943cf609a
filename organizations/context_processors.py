from .access import scope_for


def navigation(request):
    """The user's scope, for the navigation bar; evaluated lazily by the templates that use it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Vietnamese order: family and middle names (last_name), then the given name (first_name).
    display_name = f"{user.last_name} {user.first_name}".strip() or user.get_username()
    return {"scope": scope_for(user), "display_name": display_name}
