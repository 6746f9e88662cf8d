"""Webhook registration: dynamic webhooks of OAuth 2.0 apps and admin webhooks.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-webhooks/ (dynamic:
`/rest/api/{2,3}/webhook`, owned by the calling app, expiring 30 days after registration or
the last refresh, JQL filter required and limited to a few clauses) and
https://developer.atlassian.com/cloud/jira/platform/webhooks/#registering-a-webhook-using-the-jira-rest-api--for-admins-
(admin: `/rest/webhooks/1.0/webhook`, site admins only, any JQL). Deliveries are in
`twins.jira.events`; `/webhook/failed` lists an app's deliveries that ran out of retries
(from the core delivery journal, 72 hours back on the twin clock). Divergences: an app is
identified by the account behind its bearer token (Jira serves failures to Connect apps only).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.jira import constants, jql, models
from twins.jira.errors import Forbidden, JiraError, NotFound
from twins.jira.service import common

WEBHOOK = table(models.Webhook)

DYNAMIC_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
)
ADMIN_EVENTS = (
    *DYNAMIC_EVENTS,
    "worklog_created",
    "worklog_updated",
    "worklog_deleted",
    "issuelink_created",
    "issuelink_deleted",
    "attachment_created",
    "attachment_deleted",
    "project_created",
    "project_updated",
    "project_soft_deleted",
    "project_deleted",
    "project_restored_deleted",
    "jira:version_created",
    "jira:version_updated",
    "jira:version_released",
    "jira:version_unreleased",
    "jira:version_deleted",
    "user_created",
    "user_deleted",
    "sprint_created",
    "sprint_started",
    "sprint_closed",
    "sprint_updated",
    "sprint_deleted",
    "board_created",
    "board_deleted",
)
FAILED_KEPT_S = 72 * 3600  # "After 72 hours the failure may no longer be returned"
# Dynamic webhooks accept a subset of JQL: these fields and equality operators only.
DYNAMIC_JQL_FIELDS = {
    "project",
    "issuekey",
    "key",
    "issue",
    "issuetype",
    "type",
    "status",
    "assignee",
    "reporter",
}
DYNAMIC_JQL_OPS = {"=", "!=", "IN", "NOT IN"}
NOT_AN_APP = "Only Connect and OAuth 2.0 apps can use this operation."


def _require_app(ctx: TwinContext) -> str:
    """Dynamic webhooks belong to an app: Basic (user API token) callers get Jira's 403."""
    p = common.me(ctx)
    if not p.oauth:
        raise Forbidden(NOT_AN_APP)
    return p.account_id


def _clauses(node: Any) -> list[jql.Clause]:
    if isinstance(node, jql.Clause):
        return [node]
    if isinstance(node, jql.And | jql.Or):
        return [c for child in node.children for c in _clauses(child)]
    if isinstance(node, jql.Not):
        return _clauses(node.child)
    return []


def _check_jql(ctx: TwinContext, text: Any, *, dynamic: bool) -> str | None:
    """The problem with a webhook's JQL filter (Jira's wording), or None when it is usable."""
    from twins.jira.service import search

    if not isinstance(text, str) or not text.strip():
        return "The JQL filter is required." if dynamic else None
    try:
        query = jql.parse(text)
        if dynamic:
            for clause in _clauses(query.where):
                field = clause.field.lower()
                if field not in DYNAMIC_JQL_FIELDS and not field.startswith(("cf[", "customfield_")):
                    return f"The clause {clause.field} is unsupported"
                if clause.op not in DYNAMIC_JQL_OPS:
                    return f"The operator {clause.op} is unsupported"
            if query.order_by:
                return "The ORDER BY clause is unsupported"
        jql.compile_query(query, search.SiteCatalog(ctx))
    except jql.JqlError as exc:
        return exc.message
    return None


def _events(value: Any, allowed: tuple[str, ...]) -> tuple[list[str], str | None]:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        return [], "At least one webhook event is required."
    bad = [e for e in value if e not in allowed]
    if bad:
        return [], f"Webhook event '{bad[0]}' is not supported."
    return list(dict.fromkeys(value)), None


# -- dynamic webhooks (apps) -----------------------------------------------------------------


def dynamic_json(row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "jqlFilter": row.jql_filter}
    if row.field_ids_filter:
        out["fieldIdsFilter"] = list(row.field_ids_filter)
    out["events"] = list(row.events or [])
    out["expirationDate"] = common.ts(row.expiration)
    out["url"] = row.url
    return out


def _owned(ctx: TwinContext, owner: str) -> list[Row[Any]]:
    return list(
        ctx.conn.execute(
            select(WEBHOOK)
            .where(WEBHOOK.c.tenant_id == ctx.tenant, WEBHOOK.c.kind == "dynamic", WEBHOOK.c.owner == owner)
            .order_by(WEBHOOK.c.id)
        ).all()
    )


def register_dynamic(ctx: TwinContext, *, url: Any, webhooks: Any) -> dict[str, Any]:
    """`POST /webhook`: one result per requested webhook, in order: `createdWebhookId` or
    `errors` (a bad item does not fail the others)."""
    owner = _require_app(ctx)
    if not isinstance(url, str) or not url.strip():
        raise JiraError(errors={"url": "The webhook URL is required."})
    if len(url) > 2048:
        raise JiraError(errors={"url": "The webhook URL must not exceed 2048 characters."})
    if not isinstance(webhooks, list) or not webhooks:
        raise JiraError(errors={"webhooks": "At least one webhook is required."})
    have = len(_owned(ctx, owner))
    results: list[dict[str, Any]] = []
    now = ctx.now()
    for item in webhooks:
        item = item if isinstance(item, dict) else {}
        events, problem = _events(item.get("events"), DYNAMIC_EVENTS)
        problem = problem or _check_jql(ctx, item.get("jqlFilter"), dynamic=True)
        field_ids = item.get("fieldIdsFilter")
        if (
            problem is None
            and field_ids is not None
            and (not isinstance(field_ids, list) or not all(isinstance(f, str) for f in field_ids))
        ):
            problem = "fieldIdsFilter must be a list of field ids."
        if problem is None and have >= constants.MAX_DYNAMIC_WEBHOOKS:
            problem = f"An app can register at most {constants.MAX_DYNAMIC_WEBHOOKS} webhooks."
        if problem is not None:
            results.append({"errors": [problem]})
            continue
        wid = int(common.next_id(ctx, "webhook", base=1))
        ctx.conn.execute(
            insert(WEBHOOK).values(
                tenant_id=ctx.tenant,
                id=wid,
                kind="dynamic",
                name="",
                url=url,
                events=events,
                jql_filter=item["jqlFilter"],
                field_ids_filter=field_ids or None,
                secret=None,
                enabled=True,
                expiration=now + constants.DYNAMIC_WEBHOOK_TTL_S,
                owner=owner,
                created=now,
                updated=now,
            )
        )
        have += 1
        results.append({"createdWebhookId": wid})
    return {"webhookRegistrationResult": results}


def failed_webhooks(ctx: TwinContext, *, max_results: int | None, after: int | None) -> dict[str, Any]:
    """`GET /webhook/failed`: the app's deliveries that failed after every retry, oldest first,
    after `after` (ms); a page never splits deliveries that failed at the same millisecond."""
    owner = _require_app(ctx)
    mine = {r.id for r in _owned(ctx, owner)}
    size = 100 if max_results is None or max_results <= 0 else max_results
    now_ms = int(ctx.now() * 1000)
    found = []
    for d in ctx.runtime.deliveries.query(tenant=ctx.tenant, kind="webhooks", state="failed", limit=100_000):
        meta = d["meta"]
        if meta.get("webhook_id") not in mine or not d["attempts"]:
            continue
        at = int(d["attempts"][-1]["at"] * 1000)
        if now_ms - at > FAILED_KEPT_S * 1000 or (after is not None and at <= after):
            continue
        item = {"id": str(meta.get("identifier")), "url": d["target"], "failureTime": at}
        if d.get("payload") not in (None, ""):
            item["body"] = orjson.dumps(d["payload"]).decode()
        found.append(item)
    found.sort(key=lambda f: (f["failureTime"], int(f["id"]) if f["id"].isdigit() else 0))
    page = found[:size]
    while len(page) < len(found) and page and found[len(page)]["failureTime"] == page[-1]["failureTime"]:
        page.append(found[len(page)])
    out: dict[str, Any] = {"values": page, "maxResults": size}
    if page:
        out["next"] = (
            f"{common.api_base(ctx)}/webhook/failed?failedAfter={page[-1]['failureTime']}&maxResults={size}"
        )
    return out


def list_dynamic(ctx: TwinContext, *, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /webhook`: the calling app's webhooks, a PageBean (`values`, `isLast`)."""
    rows = _owned(ctx, _require_app(ctx))
    page = rows[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(rows),
        "isLast": start_at + len(page) >= len(rows),
        "values": [dynamic_json(r) for r in page],
    }


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise JiraError(errors={"webhookIds": "The list of webhook IDs must not be empty."})
    try:
        ids = [int(v) for v in value]
    except (TypeError, ValueError, OverflowError):
        raise JiraError(errors={"webhookIds": "Webhook IDs must be integers."}) from None
    return [i for i in ids if 0 < i <= 2**31 - 1]  # larger numbers name no webhook (INTEGER ids)


def delete_dynamic(ctx: TwinContext, *, webhook_ids: Any) -> None:
    """`DELETE /webhook` (202): ids of other apps' webhooks are ignored."""
    owner = _require_app(ctx)
    ids = _ids(webhook_ids)
    ctx.conn.execute(
        delete(WEBHOOK).where(
            WEBHOOK.c.tenant_id == ctx.tenant,
            WEBHOOK.c.kind == "dynamic",
            WEBHOOK.c.owner == owner,
            WEBHOOK.c.id.in_(ids),
        )
    )


def refresh_dynamic(ctx: TwinContext, *, webhook_ids: Any) -> dict[str, Any]:
    """`PUT /webhook/refresh`: the app's listed webhooks now expire 30 days from now (twin clock)."""
    owner = _require_app(ctx)
    ids = _ids(webhook_ids)
    expiration = ctx.now() + constants.DYNAMIC_WEBHOOK_TTL_S
    ctx.conn.execute(
        update(WEBHOOK)
        .where(
            WEBHOOK.c.tenant_id == ctx.tenant,
            WEBHOOK.c.kind == "dynamic",
            WEBHOOK.c.owner == owner,
            WEBHOOK.c.id.in_(ids),
        )
        .values(expiration=expiration, updated=ctx.now())
    )
    return {"expirationDate": common.ts(expiration)}


# -- admin webhooks (/rest/webhooks/1.0) ------------------------------------------------------


def _require_admin(ctx: TwinContext) -> None:
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have permission to perform this operation.")


def admin_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    user = common.user_row(ctx, row.updated_by)
    return {
        "name": row.name,
        "url": row.url,
        "excludeBody": bool(row.exclude_body),
        "filters": {"issue-related-events-section": row.jql_filter or ""},
        "events": list(row.events or []),
        "enabled": bool(row.enabled),
        "self": f"{ctx.base_url}/rest/webhooks/1.0/webhook/{row.id}",
        "lastUpdatedUser": row.updated_by,
        "lastUpdatedDisplayName": user.display_name if user else None,
        "lastUpdated": int((row.updated or row.created) * 1000),
    }


def _admin_row(ctx: TwinContext, webhook_id: str) -> Row[Any]:
    row = None
    if webhook_id.isdigit() and int(webhook_id) <= 2**31 - 1:
        row = ctx.conn.execute(
            select(WEBHOOK).where(
                WEBHOOK.c.tenant_id == ctx.tenant, WEBHOOK.c.kind == "admin", WEBHOOK.c.id == int(webhook_id)
            )
        ).first()
    if row is None:
        raise NotFound(f"Webhook with id {webhook_id} does not exist.")
    return row


def _admin_values(ctx: TwinContext, data: dict[str, Any], current: Row[Any] | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = data.get("name", current.name if current else None)
    url = data.get("url", current.url if current else None)
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "The webhook name is required."
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        errors["url"] = "The webhook URL must be an absolute http(s) URL."
    elif len(url) > 2048:
        errors["url"] = "The webhook URL must not exceed 2048 characters."
    secret = data.get("secret", current.secret if current else None)
    if secret is not None and (not isinstance(secret, str) or len(secret) > 255):
        errors["secret"] = "The secret must be a string of at most 255 characters."
    events = current.events if current is not None else []
    if "events" in data:
        events, problem = _events(data["events"], ADMIN_EVENTS)
        if problem:
            errors["events"] = problem
    filters = data.get("filters")
    jql_text = current.jql_filter if current is not None else None
    if filters is not None:
        if not isinstance(filters, dict):
            errors["filters"] = "filters must be an object."
        else:
            jql_text = filters.get("issue-related-events-section") or None
            problem = _check_jql(ctx, jql_text, dynamic=False)
            if problem:
                errors["filters"] = problem
    if errors:
        raise JiraError(errors=errors)
    return {
        "name": name,
        "url": url,
        "events": events,
        "jql_filter": jql_text,
        "exclude_body": bool(data.get("excludeBody", current.exclude_body if current else False)),
        "enabled": bool(data.get("enabled", current.enabled if current else True)),
        "secret": secret or None,
        "updated_by": common.me(ctx).account_id,
        "updated": ctx.now(),
    }


def list_admin(ctx: TwinContext) -> list[dict[str, Any]]:
    _require_admin(ctx)
    rows = ctx.conn.execute(
        select(WEBHOOK)
        .where(WEBHOOK.c.tenant_id == ctx.tenant, WEBHOOK.c.kind == "admin")
        .order_by(WEBHOOK.c.id)
    ).all()
    return [admin_json(ctx, r) for r in rows]


def get_admin(ctx: TwinContext, *, webhook_id: str) -> dict[str, Any]:
    _require_admin(ctx)
    return admin_json(ctx, _admin_row(ctx, webhook_id))


def create_admin(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /rest/webhooks/1.0/webhook` (201): name, url, events, optional JQL filter."""
    _require_admin(ctx)
    values = _admin_values(ctx, data, None)
    wid = int(common.next_id(ctx, "webhook", base=1))
    ctx.conn.execute(
        insert(WEBHOOK).values(
            tenant_id=ctx.tenant,
            id=wid,
            kind="admin",
            field_ids_filter=None,
            expiration=None,
            owner=None,
            created=ctx.now(),
            **values,
        )
    )
    return get_admin(ctx, webhook_id=str(wid))


def update_admin(ctx: TwinContext, *, webhook_id: str, data: dict[str, Any]) -> dict[str, Any]:
    _require_admin(ctx)
    row = _admin_row(ctx, webhook_id)
    values = _admin_values(ctx, data, row)
    ctx.conn.execute(
        update(WEBHOOK).where(WEBHOOK.c.tenant_id == ctx.tenant, WEBHOOK.c.id == row.id).values(**values)
    )
    return get_admin(ctx, webhook_id=webhook_id)


def delete_admin(ctx: TwinContext, *, webhook_id: str) -> None:
    _require_admin(ctx)
    row = _admin_row(ctx, webhook_id)
    ctx.conn.execute(delete(WEBHOOK).where(WEBHOOK.c.tenant_id == ctx.tenant, WEBHOOK.c.id == row.id))
