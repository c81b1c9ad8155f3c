import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dibao.settings")

TOO_LARGE_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>提交的内容过大</title></head>'
    "<body><h1>提交的内容过大</h1><p>本次提交超过了 {limit} MB 的上限，没有保存任何内容。"
    '导入花名册时请拆分文件后分批导入。</p><p><a href="/">返回首页</a></p></body></html>'
)


def require_secret_key() -> None:
    """A served site must have its own SECRET_KEY (the fallback exists only with DEBUG on)."""
    if not settings.SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")


def cap_request_size(app, max_bytes: int):
    """Refuse, with 413, a request that announces a body larger than max_bytes, before it is read.

    Django limits the form fields it parses but not uploaded file parts, and gunicorn has no
    body limit of its own (its limit_request_* settings cover the request line and headers).
    """
    page = TOO_LARGE_PAGE.format(limit=max_bytes // (1024 * 1024)).encode()

    def capped(environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_bytes:
            start_response(
                "413 Request Entity Too Large",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))],
            )
            return [page]
        return app(environ, start_response)

    return capped


require_secret_key()
application = cap_request_size(get_wsgi_application(), settings.REQUEST_MAX_BYTES)
