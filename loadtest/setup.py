"""The load test's people and work, from the demo town (Django ORM, in the orchestrating process).

Villages 6–15 of the demo town are in the middle of their visits (1–5 have reported). Each
gets five village cadres (its demo cadre and four accounts made here through the project's
own `create_account`), and each cadre a list of households: open drafts first, then
households not yet visited. One draft per village and run is shared by the demo cadre and
the village's work-group member (groupNN), who edit it at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from cases import services as registry
from cases.models import Campaign, Profile, Village
from surveys.models import Survey
from surveys.services import survey_universe

from .scenario import Account, Pair, Task

CADRES_PER_VILLAGE = 5
TASKS_PER_CADRE = 2


@dataclass
class RunPlan:
    cadres: list[tuple[Account, list[Task]]]
    partners: list[tuple[Account, Task]]

    @property
    def users(self) -> int:
        return len(self.cadres) + len(self.partners)


def _account(user, village: Village, n: int) -> Account:
    # Each user behind the proxy has an address of their own (X-Forwarded-For), as phones do.
    return Account(user.username, user.pk, village.code, f"10.{n // 250}.{n % 250}.{1 + n % 200}")


@transaction.atomic
def make_accounts(campaign: Campaign) -> dict[str, list]:
    """Village → its cadres (the demo one first) and its work-group member; extra cadres made as the town would."""
    users = get_user_model().objects
    town = users.get(username="town")
    demo_hash = users.get(username="cadre01").password  # the demo password, without hashing it 40 times
    villages = list(Village.objects.filter(town=campaign.town).order_by("order"))[5:]
    people = {}
    n = 0
    for village in villages:
        cadres = list(users.filter(profile__role=Profile.Role.VILLAGE, profile__village=village).order_by("username"))
        while len(cadres) < CADRES_PER_VILLAGE:
            n += 1
            user, _temporary = registry.create_account(
                actor=town,
                username=f"load{n:02d}",
                display_name=f"{village.name}负载测试{n:02d}",
                role=Profile.Role.VILLAGE,
                village=village,
            )
            user.password = demo_hash
            user.save(update_fields=["password"])
            cadres.append(user)
        Profile.objects.filter(user__in=cadres).update(must_change_password=False)
        member = users.get(profile__role=Profile.Role.WORK_GROUP, profile__work_group__villages=village)
        people[village.code] = (village, cadres[:CADRES_PER_VILLAGE], member)
    return people


def plan_runs(campaign: Campaign, people: dict, runs: int) -> list[RunPlan]:
    """Disjoint work for each run: per village one shared draft, then two households per cadre."""
    plans = [RunPlan([], []) for _ in range(runs)]
    n = 0
    for village, cadres, member in people.values():
        drafts = list(
            Survey.objects.filter(campaign=campaign, household__village=village, status=Survey.Status.DRAFT)
            .order_by("id")
            .values_list("household__public_id", "public_id")
        )
        unvisited = list(
            survey_universe(campaign)
            .filter(village=village)
            .exclude(surveys__campaign=campaign)
            .order_by("id")
            .values_list("public_id", flat=True)
        )
        shared_drafts = [(str(h), str(s)) for h, s in drafts[:runs]]
        # Solo work: households not yet visited first (the cadre starts the survey), then open drafts.
        pool = [(str(h), None) for h in unvisited] + [(str(h), str(s)) for h, s in drafts[runs:]]
        accounts = []
        for user in [*cadres, member]:
            n += 1
            accounts.append(_account(user, village, n))
        *cadre_accounts, partner = accounts
        for plan in plans:
            work = {a: [] for a in cadre_accounts}
            if shared_drafts:
                household, survey = shared_drafts.pop(0)
                shared = {"household": household, "survey": survey, "partner": partner, "pair": Pair()}
                plan.partners.append((partner, Task(**{**shared, "partner": cadre_accounts[0]}, field="d-medical")))
                work[cadre_accounts[0]].append(Task(**shared))
            for _ in range(TASKS_PER_CADRE):
                for account in cadre_accounts:
                    if pool:
                        household, survey = pool.pop(0)
                        work[account].append(Task(household=household, survey=survey, partner=partner))
            plan.cadres += list(work.items())
    return plans
