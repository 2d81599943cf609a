from django.urls import path

from . import dashboard_views, decision_views, export_views, meeting_views, views

app_name = "assessments"

urlpatterns = [
    path("", views.my_reviews, name="mine"),
    path("<uuid:public_id>/", views.assessment_form, name="form"),
    path("<uuid:public_id>/save/", views.assessment_save, name="save"),
    path("<uuid:public_id>/submit/", views.assessment_submit, name="submit"),
    path("<uuid:public_id>/return/", views.assessment_return, name="return"),
    path("<uuid:public_id>/reopen/", views.assessment_reopen, name="reopen"),
    path("<uuid:public_id>/analysis/", views.analysis, name="analysis"),
    path("<uuid:public_id>/print/", views.assessment_print, name="print"),
    path("<uuid:public_id>/docx/", views.assessment_docx, name="docx"),
    path("period/<uuid:period_id>/roster/", views.roster, name="roster"),
    path("period/<uuid:period_id>/roster/<uuid:public_id>/", views.roster_override, name="roster_override"),
    path("period/<uuid:period_id>/org/<slug:code>/", views.dashboard, name="dashboard"),
    path("period/<uuid:period_id>/decide/<slug:code>/", decision_views.decide, name="decide"),
    path("period/<uuid:period_id>/rank/<slug:code>/", decision_views.rank, name="rank"),
    path("period/<uuid:period_id>/org/<slug:code>/remind/", views.remind, name="remind"),
    path("period/<uuid:period_id>/org/<slug:code>/calls/", views.call_list, name="call_list"),
    path("period/<uuid:period_id>/org/<slug:code>/paper/", views.paper_self_reviews, name="paper"),
    path("period/<uuid:period_id>/org/<slug:code>/meeting/", meeting_views.meeting, name="meeting"),
    path("period/<uuid:period_id>/org/<slug:code>/meeting/print/", meeting_views.meeting_print, name="meeting_print"),
    path("period/<uuid:period_id>/org/<slug:code>/meeting/docx/", meeting_views.meeting_docx, name="meeting_docx"),
    path("period/<uuid:period_id>/org/<slug:code>/meeting/ballot/open/", meeting_views.ballot_open, name="ballot_open"),
    path(
        "period/<uuid:period_id>/org/<slug:code>/meeting/ballot/close/", meeting_views.ballot_close, name="ballot_close"
    ),
    path("ballots/", meeting_views.my_ballots, name="my_ballots"),
    path("ballot/<uuid:public_id>/", meeting_views.ballot_vote, name="ballot_vote"),
    path("period/<uuid:period_id>/org/<slug:code>/stats/", dashboard_views.stats, name="stats"),
    path("period/<uuid:period_id>/org/<slug:code>/export.xlsx", export_views.export, name="export"),
]
