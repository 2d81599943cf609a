"""The addresses of the jobs: by the job's public id."""

from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/progress/", views.progress, name="progress"),
    path("<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:public_id>/download/", views.download, name="download"),
]
