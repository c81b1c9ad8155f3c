from django.urls import path

from . import views

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<str:public_id>/", views.household_detail, name="household_detail"),
    path("households/<str:public_id>/edit/", views.household_edit, name="household_edit"),
    path("households/<str:public_id>/reveal-ids/", views.household_reveal_ids, name="household_reveal_ids"),
    path("households/<str:public_id>/members/new/", views.member_add, name="member_add"),
    path("members/<str:public_id>/edit/", views.member_edit, name="member_edit"),
    path("members/<str:public_id>/change/", views.member_change, name="member_change"),
    path("campaign/", views.campaign_detail, name="campaign_detail"),
    path("campaign/edit/", views.campaign_edit, name="campaign_edit"),
    path("import/", views.import_roll, name="import_roll"),
    path("accounts/manage/", views.accounts, name="accounts"),
    path("accounts/manage/new/", views.account_create, name="account_create"),
    path("accounts/manage/<str:username>/reset/", views.account_reset, name="account_reset"),
    path("accounts/manage/<str:username>/active/", views.account_active, name="account_active"),
    path("import/template.xlsx", views.import_template, name="import_template"),
]
