"""The case row follows the household through the campaign, and coverage reads it."""

import datetime as dt

from cases.models import Case
from surveys import services


def _submitted(survey, cadre, partner):
    data = services.input_from(survey.with_rows())
    data.header.update(
        visit_date=dt.date(2019, 10, 25),
        main_cause="illness",
        recommendation="keep",
        recommendation_reason="核实无误",
        dibao_reason="因病致贫。",
        head_confirmation="signed",
    )
    survey = services.save_survey(survey, data, actor=cadre)
    services.set_investigators(survey, [cadre, partner], actor=cadre)
    for user in (cadre, partner):
        services.sign_survey(
            survey,
            investigator=user,
            actor=cadre,
            method="本人登录签字",
            shown_fingerprint=survey.with_rows().content_fingerprint(),
        )
    return services.submit_survey(survey, actor=cadre)


def test_it_moves_from_pending_to_draft_to_submitted_to_reported(campaign, household_a, cadre_a, group_leader_a):
    village = household_a.village

    def stage():
        return Case.objects.get(campaign=campaign, household=household_a).stage

    assert stage() == Case.Stage.PENDING
    survey = services.start_survey(household_a, campaign=campaign, actor=cadre_a)
    assert stage() == Case.Stage.DRAFT
    _submitted(survey, cadre_a, group_leader_a)
    assert stage() == Case.Stage.SUBMITTED
    services.report_village(campaign, village, actor=cadre_a)
    assert stage() == Case.Stage.REPORTED
    # a correction after the report leaves the household reported
    copy = services.start_correction(survey, actor=cadre_a, reason="补充收入")
    assert stage() == Case.Stage.REPORTED
    _submitted(copy, cadre_a, group_leader_a)
    assert stage() == Case.Stage.REPORTED


def test_coverage_equals_direct_counts(campaign, make_household, village_a, village_b, cadre_a, group_leader_a):
    households = [make_household(village_a, head=f"户{i}", others=()) for i in range(4)]
    make_household(village_b, head="乙村户", others=())
    _submitted(services.start_survey(households[0], campaign=campaign, actor=cadre_a), cadre_a, group_leader_a)
    services.start_survey(households[1], campaign=campaign, actor=cadre_a)
    rows = {r["village"].name: r for r in services.coverage_by_village(campaign, [village_a, village_b])}
    a = rows[village_a.name]
    assert (a["total"], a["submitted"], a["draft"], a["not_visited"]) == (4, 1, 1, 2)
    assert a["percent"] == 25 and not a["complete"]
    assert rows[village_b.name]["total"] == 1
    assert services.unsubmitted(campaign, village_a).count() == 3
    assert services.unaccounted_members(campaign, village_a) == 3
    # the village list's total and the members not yet accounted for, read together
    for status, total in (("", 4), ("not_visited", 2), ("draft", 1), ("submitted", 1)):
        assert services.village_list_counts(campaign, village_a, status) == (total, 3)
        assert services.village_case_count(campaign, village_a, status) == total
