"""URLs of this part of the reports app (see reports/urls.py): the written report, the 公示
files and the policy flyer."""

from django.urls import path

from . import documents_views

urlpatterns = [
    path("", documents_views.document_list, name="documents"),
    path("report/<str:kind>/<str:fmt>/", documents_views.report, name="document_report"),
    path("notice/<str:code>/<str:fmt>/", documents_views.notice_file, name="document_notice"),
    # public: the notice board (/board/) links to it
    path("flyer/", documents_views.flyer, name="document_flyer"),
]
