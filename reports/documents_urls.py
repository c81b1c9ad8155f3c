"""URLs of this part of the reports app (see reports/urls.py)."""

urlpatterns: list = []
