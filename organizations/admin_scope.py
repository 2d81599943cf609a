"""The admin within the organisation scope: what `organizations.access` decides for the screens, the
admin decides the same way.

The admin is the board's: a staff account that holds no board role (made staff by hand) is let into
nothing, and a board below the root sees only its subtree, as on the screens. Each model admin says
where its objects' organisation is (`scope_lookup`, the path of that organisation: "cell__path"), or
that they belong to none (None: accounts without a role or a member record, clusters, failed sign-ins;
those are for the board of a whole tree and the administrator). From that:

- the changelist, the actions, the search and the autocomplete list only objects in scope;
- an object outside it answers 404 on its change, delete and history pages (not 403, not a redirect);
- per-object view, change and delete permissions say no outside it;
- a foreign key offers only the objects in scope of its own model's admin.

The superuser sees everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.http import Http404

from .access import scope_for

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite
    from django.db.models import Field, Model, QuerySet
    from django.forms import Field as FormField
    from django.http import HttpRequest

NOTHING = Q(pk__in=[])


def admits(request: HttpRequest) -> bool:
    """Whether the user works in the admin: the superuser, and the holders of a board role."""
    scope = scope_for(request.user)
    return scope.is_superuser or scope.is_board


def scope_q_for(request: HttpRequest, lookup: str | None) -> Q:
    """The filter of the objects in `request.user`'s scope, whose organisation's path is `lookup`
    (None: objects of no organisation, the business of the board of a whole tree)."""
    scope = scope_for(request.user)
    if scope.is_superuser:
        return Q()
    if lookup is None:
        return Q() if scope.manages_a_root else NOTHING
    return scope.path_q(lookup)


def _related_queryset(admin_site: AdminSite, request: HttpRequest, model: type[Model]) -> QuerySet | None:
    """The objects of `model` a foreign key may offer: those in scope of its admin (None: unscoped)."""
    related_admin = admin_site._registry.get(model)
    if not isinstance(related_admin, ScopedAdminMixin):
        return None
    return model._default_manager.filter(related_admin.scope_q(request))


class ScopedFieldsMixin:
    """Foreign keys offer only what is in scope (a model admin's fields and an inline's)."""

    admin_site: AdminSite

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> FormField:
        allowed = _related_queryset(self.admin_site, request, db_field.related_model)
        if allowed is not None:
            given = kwargs.get("queryset")
            kwargs["queryset"] = given.filter(pk__in=allowed.values("pk")) if given is not None else allowed
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> FormField:
        allowed = _related_queryset(self.admin_site, request, db_field.related_model)
        if allowed is not None and "queryset" not in kwargs:
            kwargs["queryset"] = allowed
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdminMixin(ScopedFieldsMixin):
    """A model admin within the user's scope (put before `admin.ModelAdmin` in the bases)."""

    scope_lookup: str | None = None

    def scope_q(self, request: HttpRequest) -> Q:
        return scope_q_for(request, self.scope_lookup)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(self.scope_q(request))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Model:
        """The object if it is in scope; else 404, where Django would send the user back to the index."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        obj._in_admin_scope = True  # read through the scoped queryset: no need to ask again
        return obj

    def in_scope(self, request: HttpRequest, obj: Model) -> bool:
        """Whether `obj` is in scope: read from the object where `scope_lookup` says (a row of a list
        costs no query), else asked of the database once."""
        scope = scope_for(request.user)
        if scope.is_superuser:
            return True
        known = getattr(obj, "_in_admin_scope", None)
        if known is None:
            if type(self).scope_q is not ScopedAdminMixin.scope_q:  # a filter of its own: ask it
                known = self.model._default_manager.filter(self.scope_q(request), pk=obj.pk).exists()
            elif self.scope_lookup is None:
                known = scope.manages_a_root
            else:
                value = obj
                for name in self.scope_lookup.split("__"):
                    value = getattr(value, name, None) if value is not None else None
                known = value is not None and any(value.startswith(path) for path in scope.managed_paths)
            obj._in_admin_scope = known
        return known

    def has_module_permission(self, request: HttpRequest) -> bool:
        return admits(request) and super().has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return admits(request) and super().has_add_permission(request, *args)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admits(request) and super().has_view_permission(request, obj) and self._reaches(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admits(request) and super().has_change_permission(request, obj) and self._reaches(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admits(request) and super().has_delete_permission(request, obj) and self._reaches(request, obj)

    def _reaches(self, request: HttpRequest, obj: Model | None) -> bool:
        return obj is None or self.in_scope(request, obj)


class ScopedInlineMixin(ScopedFieldsMixin):
    """An inline within the scope: its foreign keys, and its rows when it says where their organisation
    is (`scope_lookup`; None: the rows of an object in scope are in scope)."""

    scope_lookup: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if self.scope_lookup is None:
            return queryset
        return queryset.filter(scope_q_for(request, self.scope_lookup))
