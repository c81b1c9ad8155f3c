from . import roles


def role(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = roles.role_of(user)
    return {
        "user_role": role,
        "user_role_label": dict(roles.Role.choices).get(role, ""),
        "can_write_registry": roles.can_write_registry(user),
        "can_edit_campaign": roles.can_edit_campaign(user),
        "can_report_village": roles.can_report_village(user),
    }
