from django.urls import include, path

from . import export_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/surveys/<str:public_id>/pdf/", export_views.survey_pdf, name="survey_pdf"),
    path("reports/revisits/<str:public_id>/pdf/", export_views.revisit_pdf, name="revisit_pdf"),
    path("reports/exports/", export_views.export_list, name="export_list"),
    path("reports/exports/village/<str:code>/", export_views.village_export, name="export_village"),
    path("reports/exports/sample/<str:level>/", export_views.sample_export, name="export_sample"),
    path("reports/exports/<str:public_id>/", export_views.export_detail, name="export_detail"),
    path("reports/exports/<str:public_id>/status/", export_views.export_status, name="export_status"),
    path("reports/exports/<str:public_id>/retry/", export_views.export_retry, name="export_retry"),
    path("reports/exports/<str:public_id>/download/", export_views.export_download, name="export_download"),
    # the written report, 公示 files and the flyer
    path("reports/documents/", include("reports.documents_urls")),
    # Excel exports of the list pages
    path("reports/lists/", include("reports.list_export_urls")),
    # the public notice board (no sign-in)
    path("board/", include("reports.board_urls")),
]
