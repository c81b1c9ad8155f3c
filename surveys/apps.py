from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "入户调查"

    def ready(self):
        # the ground floor says a household is to be checked in full; this floor adds it to the
        # running sample (cases cannot import surveys)
        from cases.complaints import full_check_marked

        from .review import full_check_marked as take_in

        full_check_marked.connect(take_in, dispatch_uid="surveys.full_check_into_sample")
