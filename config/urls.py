from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.views import home

admin.site.site_header = _("Party review administration")
admin.site.site_title = _("Party review")
admin.site.index_title = _("City organisation board")

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("organizations/", include("organizations.urls")),
    path("members/", include("members.urls")),
    path("reviews/", include("assessments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
