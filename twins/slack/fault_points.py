"""Semantic faults of the Slack twin: behaviour no proxy in front of Slack could fake.

Turned on by a profile rule `{action: {kind: fault_point, point: <name>, params: {...}}}`.
"""

FAULT_POINTS: dict[str, str] = {
    "slack.events.duplicate_delivery": (
        "Slack delivers events at least once: the events raised by the matched API calls are sent "
        "twice with the same event_id (the `duplicate` delivery action does it for every event; "
        "this point targets the events of chosen calls, e.g. one operation or one tenant)."
    ),
}
