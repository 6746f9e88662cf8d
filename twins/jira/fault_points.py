"""Semantic faults of the Jira twin: behaviour no proxy in front of Jira could fake.

Turned on by a profile rule `{action: {kind: fault_point, point: <name>, params: {...}}}`.
"""

FAULT_POINTS: dict[str, str] = {
    "jira.search.index_lag": (
        "Jira's search index trails writes: a search (JQL /search, /search/jql, approximate-count, "
        "agile board issues) misses issues created or changed in the last `lag_s` seconds (default 5), "
        "as real Jira can right after a write."
    ),
}
