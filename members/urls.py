from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("me/", views.my_profile, name="me"),
    path("<uuid:public_id>/", views.member_detail, name="detail"),
]

# Import (members/import_views.py).
from . import import_views  # noqa: E402

urlpatterns += [
    path("import/", import_views.import_upload, name="import"),
    path("import/template/<str:kind>.xlsx", import_views.import_template, name="import_template"),
]
