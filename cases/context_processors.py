from dibao import permissions


def role(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .models import Profile

    role = permissions.role_of(user)
    return {
        "user_role": role,
        "user_role_label": dict(Profile.Role.choices).get(role, ""),
        "can_write_registry": permissions.can_write_registry(user),
        "can_edit_campaign": permissions.can_edit_campaign(user),
        "can_report_village": permissions.can_report_village(user),
    }
