"""The public notice board (no sign-in): see reports/board_views.py."""

from django.urls import path

from . import board_views

urlpatterns = [
    path("", board_views.board, name="board"),
    path("poster/", board_views.poster, name="board_poster"),
    path("notices/<str:code>/", board_views.village_board, name="board_village"),
]
