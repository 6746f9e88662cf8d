"""Semantic faults of the Slack twin: behaviour no proxy in front of Slack could fake.

Turned on by a profile rule `{action: {kind: fault_point, point: <name>, params: {...}}}`.
"""

FAULT_POINTS: dict[str, str] = {
    "slack.events.duplicate_delivery": (
        "Slack sometimes delivers one event twice with the same event_id (at-least-once delivery); "
        "prefer the `duplicate` delivery action, which this point mirrors for request-scoped rules."
    ),
}
