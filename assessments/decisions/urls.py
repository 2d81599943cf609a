"""The addresses of the decision screens, of reopening a subject, of the board's re-checks and of its
confirming again, after finalising, a decision put back "to confirm"."""

from django.urls import path

from . import views

urlpatterns = [
    path("period/<uuid:period_id>/decide/<slug:code>/", views.decide, name="decide"),
    path("period/<uuid:period_id>/rank/<slug:code>/", views.rank, name="rank"),
    path("period/<uuid:period_id>/rank/<slug:code>/collectives/", views.rank_collectives, name="rank_collectives"),
    path("<uuid:public_id>/reopen/", views.assessment_reopen, name="reopen"),
    path("period/<uuid:period_id>/rechecks/", views.rechecks, name="rechecks"),
    path("period/<uuid:period_id>/rechecks/<int:pk>/resolve/", views.recheck_resolve, name="recheck_resolve"),
    path("period/<uuid:period_id>/confirm/<uuid:public_id>/", views.confirm_again, name="confirm_again"),
]
