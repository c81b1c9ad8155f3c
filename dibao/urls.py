from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases.views import Login, PasswordChange, healthz

admin.site.site_header = "低保复核系统 管理后台"
admin.site.site_title = "低保复核管理后台"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", Login.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChange.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("surveys/", include("surveys.urls")),
    path("departments/", include("surveys.department_urls")),
    path("dashboard/", include("reports.dashboard_urls")),
    path("", include("reports.urls")),
    path("", include("cases.urls")),
]
