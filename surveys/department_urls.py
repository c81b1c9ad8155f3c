"""The town's department lists, the flags they raise and the screening tasks (/departments/)."""

from django.urls import path

from . import department_views

urlpatterns = [
    path("", department_views.department_home, name="department_home"),
    path("import/", department_views.department_import, name="department_import"),
    path("lists/<str:public_id>/", department_views.department_list, name="department_list"),
    path("flags/", department_views.department_flags, name="department_flags"),
    path("flags/<str:public_id>/", department_views.department_flag, name="department_flag"),
    path("flags/<str:public_id>/clear/", department_views.department_flag_clear, name="department_flag_clear"),
    path("tasks/", department_views.department_tasks, name="department_tasks"),
    path("tasks/<str:public_id>/", department_views.department_task, name="department_task"),
    path(
        "tasks/<str:public_id>/reveal-id/",
        department_views.department_task_reveal,
        name="department_task_reveal",
    ),
    path("tasks/<str:public_id>/close/", department_views.department_task_close, name="department_task_close"),
    path("tasks/<str:public_id>/link/", department_views.department_task_link, name="department_task_link"),
    path(
        "tasks/<str:public_id>/register/",
        department_views.department_task_register,
        name="department_task_register",
    ),
]
