"""The portal's pages under the addresses and names they have always had: the home page, the
organisation pages (organizations:list, organizations:detail) and the member page (members:detail).

The member page joins the members app's own pages (the list, the own record, the import) under the
one "members" name, since a URL name belongs to one include only."""

from django.urls import include, path

from members import urls as members_urls

from . import views

organization_patterns = [
    path("", views.organization_list, name="list"),
    path("<slug:code>/", views.organization_detail, name="detail"),
]

member_patterns = [
    *members_urls.urlpatterns,
    path("<uuid:public_id>/", views.member_detail, name="detail"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/", include((organization_patterns, "organizations"))),
    path("members/", include((member_patterns, members_urls.app_name))),
]
