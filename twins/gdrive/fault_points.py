"""Semantic faults of the Drive twin: behaviour no proxy in front of Drive could fake.

Turned on by a profile rule `{action: {kind: fault_point, point: <name>, params: {...}}}`.
Eventual consistency of `files.list` is the core's `stale_reads` action (`lag_s`): new files
are missing from listings and searches until they are older than the lag.
"""

FAULT_POINTS: dict[str, str] = {}
