"""Semantic faults of the Okta twin: behaviour no proxy in front of Okta could fake.

Turned on by a profile rule `{action: {kind: fault_point, point: <name>, params: {...}}}`.
"""

FAULT_POINTS: dict[str, str] = {
    "okta.users.transitioning": (
        "Okta activates and deactivates users asynchronously: with this point on, lifecycle calls answer "
        "while the user still shows `transitioningToStatus` (params: none)."
    ),
    "okta.event_hooks.verify_timeout": (
        "The event hook verification request times out on Okta's side (the hook stays UNVERIFIED)."
    ),
}
