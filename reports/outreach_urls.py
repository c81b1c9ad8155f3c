"""政策培训 pages, under the dashboard (see reports/dashboard_urls.py)."""

from django.urls import path

from . import outreach_views

urlpatterns = [
    path("", outreach_views.training_list, name="training_list"),
    path("new/", outreach_views.training_create, name="training_create"),
    path("<str:public_id>/edit/", outreach_views.training_edit, name="training_edit"),
]
