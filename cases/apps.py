from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "复核行动与花名册"
