"""Request limits: the body cap in front of Django, and the survey form within Django's field limit."""

import io

from django.conf import settings
from django.urls import reverse

from dibao.wsgi import application, cap_request_size
from tests.surveys.conftest import COMPLETE, form_data

# Nineteen more members: a household of 20, larger than any on the roll.
OTHERS = tuple("李" + c for c in "一二三四五六七八九十甲乙丙丁戊己庚辛壬")


def call(app, length: int) -> tuple[str, bytes]:
    seen = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(length),
        "wsgi.input": io.BytesIO(b"x" * min(length, 10)),
    }
    body = b"".join(app(environ, lambda status, headers: seen.update(status=status)))
    return seen["status"], body


def test_it_refuses_a_body_over_the_cap_before_the_site_reads_it():
    status, body = call(application, settings.REQUEST_MAX_BYTES + 1)
    assert status.startswith("413")
    assert "提交的内容过大" in body.decode() and "没有保存任何内容" in body.decode()


def test_it_lets_a_body_up_to_the_cap_through():
    def site(environ, start_response):
        start_response("200 OK", [])
        return [b"reached"]

    assert call(cap_request_size(site, 100), 100) == ("200 OK", b"reached")
    assert call(cap_request_size(site, 100), 101)[0].startswith("413")


def test_it_accepts_the_survey_form_of_a_household_of_twenty(make_household, village_a, campaign, client_for, cadre_a):
    from surveys import services

    household = make_household(village_a, others=OTHERS)
    survey = services.start_survey(household, campaign=campaign, actor=cadre_a)
    data = form_data(survey, **{**COMPLETE, "m-19-inc_wage": "1200"})
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = client_for(cadre_a).post(reverse("survey_edit", args=[survey.public_id]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    survey.refresh_from_db()
    assert survey.members.count() == 20
    assert survey.members.get(order=19).incomes.get(category="wage").amount == 1200
