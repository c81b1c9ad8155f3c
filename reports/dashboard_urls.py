from django.urls import include, path

from .dashboard_views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    # 送政策: the training sessions
    path("training/", include("reports.outreach_urls")),
]
