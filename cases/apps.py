from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "复核行动与花名册"

    def ready(self):
        from . import signals  # noqa: F401 - connects the sign-in receivers
