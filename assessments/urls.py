"""The app's addresses, each stage's in its own urls module, under the one namespace "assessments"."""

from .core.urls import urlpatterns as core
from .decisions.urls import urlpatterns as decisions
from .meetings.urls import urlpatterns as meetings
from .outputs.urls import urlpatterns as outputs
from .reviews.urls import urlpatterns as reviews

app_name = "assessments"

urlpatterns = [*reviews, *core, *meetings, *decisions, *outputs]
