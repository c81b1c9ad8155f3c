"""Rows of form fields on the survey pages, each in its own grid column, rendered in one call
(a template loop over ~100 fields cost more than the fields' own markup). The markup is made
SafeString directly: mark_safe's and Django's escape's checks for lazy text cost a few
microseconds for each of some 400 calls a page."""

from html import escape

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def grid(fields, columns: str) -> SafeString:
    """`{{ form|grid:"col-6 col-md-3" }}`: every field of a form (or a list of bound fields) in
    a column of these classes; fields render with `as_bootstrap` (surveys.forms.BootstrapField)."""
    css = escape(columns)
    return SafeString("".join(f'<div class="{css}">{field.as_bootstrap()}</div>' for field in fields))


@register.simple_tag
def fields(form, columns: str, *names: str) -> SafeString:
    """`{% fields form "col-6" "visit_date" "covered_persons" %}`: the form's fields by name, each
    in a column of these classes (none: the fields one after another)."""
    if not columns:
        return SafeString("".join(form[name].as_bootstrap() for name in names))
    return grid((form[name] for name in names), columns)
