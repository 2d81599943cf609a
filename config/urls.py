from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Party review administration")
admin.site.site_title = _("Party review")
admin.site.index_title = _("City organisation board")

# A database that cannot be reached for a moment: 503 with Retry-After rather than 500 (config/errors.py).
handler500 = "config.errors.server_error"

urlpatterns = [
    # The home page, the organisation pages and the members' pages (portal/urls.py).
    path("", include("portal.urls")),
    path("accounts/", include("accounts.urls")),
    path("reviews/", include("assessments.urls")),
    path("jobs/", include("jobs.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
