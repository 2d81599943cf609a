"""The addresses of the cell's meeting and of the online ballot."""

from django.urls import path

from . import ballot_views, views

MEETING = "period/<uuid:period_id>/org/<slug:code>/meeting/"

urlpatterns = [
    path(MEETING, views.meeting, name="meeting"),
    path(MEETING + "print/", views.meeting_print, name="meeting_print"),
    path(MEETING + "docx/", views.meeting_docx, name="meeting_docx"),
    path(MEETING + "transfer/<int:transfer_id>/comment/", views.transfer_comment, name="transfer_comment"),
    path(MEETING + "ballot/open/", ballot_views.ballot_open, name="ballot_open"),
    path(MEETING + "ballot/close/", ballot_views.ballot_close, name="ballot_close"),
    path("ballots/", ballot_views.my_ballots, name="my_ballots"),
    path("ballot/<uuid:public_id>/", ballot_views.ballot_vote, name="ballot_vote"),
]
