"""The addresses of the workbook and the statistics."""

from django.urls import path

from . import views

urlpatterns = [
    path("period/<uuid:period_id>/org/<slug:code>/stats/", views.stats, name="stats"),
    path("period/<uuid:period_id>/org/<slug:code>/export/", views.export, name="export"),
]
