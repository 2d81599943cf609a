"""The addresses of the forms and of the cell's follow-up of them."""

from django.urls import path

from . import progress, views

urlpatterns = [
    path("", views.my_reviews, name="mine"),
    path("<uuid:public_id>/", views.assessment_form, name="form"),
    path("<uuid:public_id>/save/", views.assessment_save, name="save"),
    path("<uuid:public_id>/submit/", views.assessment_submit, name="submit"),
    path("<uuid:public_id>/return/", views.assessment_return, name="return"),
    path("<uuid:public_id>/analysis/", views.analysis, name="analysis"),
    path("<uuid:public_id>/print/", views.assessment_print, name="print"),
    path("<uuid:public_id>/docx/", views.assessment_docx, name="docx"),
    path("period/<uuid:period_id>/org/<slug:code>/", progress.dashboard, name="dashboard"),
    path("period/<uuid:period_id>/org/<slug:code>/remind/", progress.remind, name="remind"),
    path("period/<uuid:period_id>/org/<slug:code>/calls/", progress.call_list, name="call_list"),
    path("period/<uuid:period_id>/org/<slug:code>/paper/", progress.paper_self_reviews, name="paper"),
]
