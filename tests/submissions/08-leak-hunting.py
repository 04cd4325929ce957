"""Correct but wasteful solutions for 08-leak-hunting: they must lose exactly the memory points."""

WASTEFUL = {
    # fixes the history, the profile cache and the listeners, but still calls the shipped route(), whose
    # lru_cache(maxsize=None) keeps one entry per distinct path: same responses, memory still grows
    "handle_request": (
        '# Write handle_request(request), and any state and helpers it needs, in this cell.\n'
        'from collections import deque\n'
        '\n'
        '_recent_requests = deque(maxlen=100)        # a bounded history\n'
        '_live_contexts = weakref.WeakSet()          # contexts of requests still running\n'
        '\n'
        '@functools.lru_cache(maxsize=128)           # a bounded cache of profiles\n'
        'def _cached_profile(user):\n'
        '    return load_profile(user)\n'
        '\n'
        'def _route(path):                           # no cache: splitting a path is cheap\n'
        '    parts = tuple(part for part in path.split("/") if part)\n'
        '    return parts or ("home",)\n'
        '\n'
        'class _Context:\n'
        '    def __init__(self, request):\n'
        '        self.request = request\n'
        '        self.notes = []\n'
        '        _live_contexts.add(self)\n'
        '\n'
        '    def on_reload(self, reason):\n'
        '        self.notes.append(f"settings reloaded ({reason})")\n'
        '\n'
        'def _notify_reload(reason):\n'
        '    for context in list(_live_contexts):\n'
        '        context.on_reload(reason)\n'
        '\n'
        'def handle_request(request):\n'
        '    """Return the same response as leaky_handle_request(request), without keeping memory per request."""\n'
        '    _recent_requests.append(request)\n'
        '    ctx = _Context(request)\n'
        '    user = request["user"]\n'
        '    profile = _cached_profile(user)\n'
        '    parts = route(request["path"])\n'
        '    if parts[0] == "admin" and parts[-1] == "reload":\n'
        '        _notify_reload(f"by {user}")\n'
        '    body = f"{profile[\'name\']} ({profile[\'tier\']}) -> {\'/\'.join(parts)} [{len(request[\'body\'])} bytes]"\n'
        '    return {"status": 200, "user": user, "tier": profile["tier"], "body": body, "notes": list(ctx.notes)}\n'
    ),
}
MEMORY_TESTS = {"test_handle_request_memory"}
