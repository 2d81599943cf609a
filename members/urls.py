from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("me/", views.my_profile, name="me"),
    path("<uuid:public_id>/", views.member_detail, name="detail"),
]
