"""The members app's own pages. The site serves them under "members/" with the member page, which
shows the member's reviews and so lives in portal/ (portal/urls.py joins them under the one name)."""

from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("me/", views.my_profile, name="me"),
]

# Import (members/import_views.py).
from . import import_views  # noqa: E402

urlpatterns += [
    path("import/", import_views.import_upload, name="import"),
    path("import/template/<str:kind>.xlsx", import_views.import_template, name="import_template"),
]
