"""Jira Cloud's documented limits and fixed catalogues, with where they are written down."""

from typing import Any

# https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/ : maxResults
SEARCH_DEFAULT_MAX = 50
SEARCH_MAX = 100  # Cloud caps search pages at 100 issues (5000 when fields=id only, not modelled)
PAGE_DEFAULT_MAX = 50
# https://support.atlassian.com/jira-cloud-administration/docs/configure-file-attachments/ (default 10 MB here)
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# https://developer.atlassian.com/cloud/jira/platform/webhooks/#registering-a-webhook-using-the-rest-api--for-connect-and-oauth-2-0-apps-
DYNAMIC_WEBHOOK_TTL_S = 30 * 24 * 3600
MAX_DYNAMIC_WEBHOOKS = 100
# https://developer.atlassian.com/cloud/jira/platform/webhooks/#retry-policy : up to 5 retries
WEBHOOK_RETRIES_S = [10.0, 20.0, 40.0, 80.0, 160.0]
WEBHOOK_TIMEOUT_S = 10.0
# https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ : burst limit (per tenant, per second)
BURST_PER_SECOND = 100

# https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-priorities/ (defaults)
PRIORITIES = [
    {
        "id": "1",
        "name": "Highest",
        "statusColor": "#d04437",
        "description": "This problem will block progress.",
    },
    {
        "id": "2",
        "name": "High",
        "statusColor": "#f15C75",
        "description": "Serious problem that could block progress.",
    },
    {
        "id": "3",
        "name": "Medium",
        "statusColor": "#f79232",
        "description": "Has the potential to affect progress.",
    },
    {
        "id": "4",
        "name": "Low",
        "statusColor": "#707070",
        "description": "Minor problem or easily worked around.",
    },
    {
        "id": "5",
        "name": "Lowest",
        "statusColor": "#999999",
        "description": "Trivial problem with little or no impact on progress.",
    },
]
DEFAULT_PRIORITY = "3"
RESOLUTIONS = [
    {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."},
    {"id": "10001", "name": "Won't Do", "description": "This issue won't be actioned."},
    {"id": "10002", "name": "Duplicate", "description": "The problem is a duplicate of an existing issue."},
    {
        "id": "10003",
        "name": "Cannot Reproduce",
        "description": "All attempts at reproducing this issue failed.",
    },
]
# https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/
STATUS_CATEGORIES: list[dict[str, Any]] = [
    {"id": 1, "key": "undefined", "colorName": "medium-gray", "name": "No Category"},
    {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
]
