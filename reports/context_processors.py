from cases import roles


def downloads(request):
    """Whether the pages may offer PDFs with full ID numbers (each such print is recorded)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can_read_full_ids": roles.can_read_full_ids(user)}
