"""URLs of this part of the reports app (see reports/urls.py): /reports/lists/…"""

from django.urls import path

from . import list_export_views as views

urlpatterns = [
    path("villages/<str:code>.xlsx", views.export, {"kind": "village"}, name="list_export_village"),
    path("sample/<str:level>.xlsx", views.export, {"kind": "sample"}, name="list_export_sample"),
    path("jobs/<str:job_id>/", views.job, name="list_export_job"),
    path("jobs/<str:job_id>/status/", views.job_status, name="list_export_job_status"),
    path("jobs/<str:job_id>/retry/", views.job_retry, name="list_export_job_retry"),
    path("jobs/<str:job_id>/download/", views.job_download, name="list_export_job_download"),
    # households, coverage, decisions, county, complaints
    path("<str:kind>.xlsx", views.export, name="list_export"),
]
