"""The addresses of the board's pages of a period."""

from django.urls import path

from . import views

urlpatterns = [
    path("period/<uuid:period_id>/roster/", views.roster, name="roster"),
    path("period/<uuid:period_id>/roster/<uuid:public_id>/", views.roster_override, name="roster_override"),
]
