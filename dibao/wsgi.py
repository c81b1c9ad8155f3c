import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dibao.settings")
application = get_wsgi_application()


def require_secret_key() -> None:
    """A served site must have its own SECRET_KEY (the fallback exists only with DEBUG on)."""
    if not settings.SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")


require_secret_key()
