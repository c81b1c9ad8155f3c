"""Content-Security-Policy: no inline script anywhere; templates that would need one fail here first."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def test_it_sends_a_policy_without_inline_script_on_the_login_page(client, db):
    csp = policy(client.get(reverse("login")))
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]  # <style> elements and stylesheets: the site's own files only
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]


def test_it_sends_the_policy_on_the_survey_form_which_runs_a_script(survey_a, client_for, cadre_a):
    response = client_for(cadre_a).get(reverse("survey_edit", args=[survey_a.public_id]))
    page = response.content.decode()
    assert 'src="/static/js/survey.js"' in page
    csp = policy(response)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]


def test_it_allows_inline_styles_only_in_style_attributes(client, db):
    # The coverage page's progress bars set their width in a style="" attribute.
    csp = policy(client.get(reverse("login")))
    assert csp["style-src-attr"] == ["'unsafe-inline'"]
    assert "'unsafe-inline'" not in csp["style-src"]


def test_it_has_no_inline_script_in_any_template():
    inline = []
    for template in TEMPLATES.rglob("*.html"):
        if template.parent == TEMPLATES / "reports" / "pdf":
            continue  # read by WeasyPrint to make a PDF, never served to a browser
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                inline.append(f"{template.relative_to(TEMPLATES)}: {tag}")
        inline += [f"{template.relative_to(TEMPLATES)}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        inline += [f"{template.relative_to(TEMPLATES)}: javascript: URL" for _ in re.findall(r"javascript:", text)]
        if re.search(r"<style\b", text):
            inline.append(f"{template.relative_to(TEMPLATES)}: <style> element")
    assert inline == []
