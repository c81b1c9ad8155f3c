from django.urls import path

from . import views

urlpatterns = [
    path("", views.coverage, name="survey_coverage"),
    path("phase/advance/", views.advance_phase, name="campaign_advance"),
    path("sample/<str:level>/", views.sample, name="survey_sample"),
    path("sample/<str:level>/draw/", views.sample_draw, name="survey_sample_draw"),
    path("sample/<str:level>/add/", views.sample_add, name="survey_sample_add"),
    path("sample/<str:level>/revisit/<str:household_id>/", views.revisit_start, name="survey_revisit_start"),
    path("revisits/<str:public_id>/", views.revisit, name="survey_revisit"),
    path("revisits/<str:public_id>/verifiers/", views.revisit_verifiers, name="survey_revisit_verifiers"),
    path("revisits/<str:public_id>/sign/", views.revisit_sign, name="survey_revisit_sign"),
    path("revisits/<str:public_id>/submit/", views.revisit_submit, name="survey_revisit_submit"),
    path("revisits/<str:public_id>/judge/", views.revisit_judge, name="survey_revisit_judge"),
    path("investigators/", views.investigator_records, name="survey_investigators_record"),
    path("villages/<str:code>/", views.village_households, name="survey_village"),
    path("villages/<str:code>/report/", views.report, name="survey_report"),
    path("screening/", views.screening, name="survey_screening"),
    path("screening/from-registry/", views.screening_from_registry, name="survey_screening_from_registry"),
    path("screening/<str:household_id>/", views.screening, name="survey_screening_add"),
    path("screening/<str:household_id>/remove/", views.screening_remove, name="survey_screening_remove"),
    path("start/<str:household_id>/", views.start, name="survey_start"),
    path("households/<str:household_id>/", views.household_survey, name="survey_household"),
    path("<str:public_id>/", views.detail, name="survey_detail"),
    path("<str:public_id>/edit/", views.edit, name="survey_edit"),
    path("<str:public_id>/preview/", views.preview, name="survey_preview"),
    path("<str:public_id>/investigators/", views.investigators, name="survey_investigators"),
    path("<str:public_id>/sign/", views.sign, name="survey_sign"),
    path("<str:public_id>/submit/", views.submit, name="survey_submit"),
    path("<str:public_id>/correct/", views.correct, name="survey_correct"),
]
