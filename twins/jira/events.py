"""Webhooks: what Jira POSTs to registered URLs when issues and comments change.

https://developer.atlassian.com/cloud/jira/platform/webhooks/ . Admin webhooks (fixture or
`/rest/webhooks/1.0/webhook`) and dynamic ones (`/rest/api/3/webhook`, expiring after 30
days) receive the events they list, filtered by their JQL. Bodies carry the issue in the v2
format (wiki text), a `changelog` for updates, `X-Atlassian-Webhook-Identifier` and, with a
secret, `X-Hub-Signature: sha256=<HMAC-SHA256(secret, body)>`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, select

from dtu.context import TwinContext
from dtu.db import table
from dtu.delivery import Delivery
from dtu.sql import Prepared
from twins.jira import constants, models
from twins.jira.service import common

WEBHOOK = table(models.Webhook)
_ENABLED = Prepared(
    select(WEBHOOK)
    .where(WEBHOOK.c.tenant_id == bindparam("tenant"), WEBHOOK.c.enabled.is_(True))
    .order_by(WEBHOOK.c.id)
)


def signer(secret: str | None, identifier: str) -> Callable[[bytes, float], dict[str, str]]:
    """The delivery headers: a stable identifier and, with a secret, the WebSub signature."""

    def sign(body: bytes, _wall_now: float) -> dict[str, str]:
        headers = {"X-Atlassian-Webhook-Identifier": identifier}
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        return headers

    return sign


def _subscribers(ctx: TwinContext, event: str) -> list[Row[Any]]:
    rows = common.cached(
        ctx, "jira.webhooks", None, lambda: tuple(_ENABLED.all(ctx.conn, {"tenant": ctx.tenant}))
    )
    now = ctx.now()
    return [r for r in rows if event in (r.events or []) and (r.expiration is None or r.expiration > now)]


def _issue_payload(ctx: TwinContext, issue_id: str) -> dict[str, Any] | None:
    from twins.jira.service import issues

    row = ctx.conn.execute(
        select(common.ISSUE).where(common.ISSUE.c.tenant_id == ctx.tenant, common.ISSUE.c.id == issue_id)
    ).first()
    if row is None:
        return None
    return issues.issue_json(ctx, row, version="2")


def _deliver(ctx: TwinContext, hook: Row[Any], body: dict[str, Any], event: str) -> None:
    payload = dict(body)
    if hook.kind == "dynamic":
        payload["matchedWebhookIds"] = [hook.id]
    # An admin webhook with `excludeBody` gets the POST alone (the URL may carry ${issue.key}...).
    raw = b"" if hook.exclude_body else orjson.dumps(payload)
    ident = ctx.ids.next("webhook-delivery")
    ctx.deliver(
        Delivery(
            tenant=ctx.tenant,
            kind="webhooks",
            target=hook.url,
            body=raw,
            sign=signer(hook.secret, str(ident)),
            retry_after_s=list(constants.WEBHOOK_RETRIES_S),
            timeout_s=constants.WEBHOOK_TIMEOUT_S,
            retry_headers=lambda n, _reason: {"X-Atlassian-Webhook-Retry": str(n)},
            meta={"type": event, "webhook_id": hook.id, "identifier": ident},
        )
    )


def _matching(ctx: TwinContext, event: str, issue_id: str) -> list[Row[Any]]:
    from twins.jira.service import search

    out = []
    for hook in _subscribers(ctx, event):
        if hook.jql_filter and not search.matches(ctx, hook.jql_filter, issue_id):
            continue
        out.append(hook)
    return out


def issue_event(
    ctx: TwinContext,
    event: str,
    issue_id: str,
    *,
    change: dict[str, Any] | None = None,
    event_type: str = "issue_generic",
) -> None:
    """Queue `jira:issue_created|updated|deleted` for every matching webhook (after commit)."""
    hooks = _matching(ctx, event, issue_id)
    if not hooks:
        return
    issue = _issue_payload(ctx, issue_id)
    if issue is None:
        return
    body: dict[str, Any] = {
        "timestamp": int(ctx.now() * 1000),
        "webhookEvent": event,
        "issue_event_type_name": event_type,
        "user": common.user_json(ctx, common.me(ctx).account_id, "2"),
        "issue": issue,
    }
    if change is not None:
        body["changelog"] = change
    for hook in hooks:
        if (
            change is not None
            and hook.field_ids_filter
            and not any(i.get("fieldId") in hook.field_ids_filter for i in change.get("items", []))
        ):
            continue
        _deliver(ctx, hook, body, event)


def comment_event(ctx: TwinContext, event: str, issue_id: str, comment: Row[Any]) -> None:
    """`comment_created|updated|deleted`, with the comment (v2 body) and a slim issue."""
    hooks = _matching(ctx, event, issue_id)
    if not hooks:
        return
    from twins.jira.service import issues

    issue = _issue_payload(ctx, issue_id)
    if issue is None:
        return
    body = {
        "timestamp": int(ctx.now() * 1000),
        "webhookEvent": event,
        "comment": issues.comment_json(ctx, comment, issue_id, "2"),
        "issue": {
            "id": issue["id"],
            "self": issue["self"],
            "key": issue["key"],
            "fields": {
                k: issue["fields"].get(k)
                for k in ("summary", "status", "issuetype", "project", "priority", "assignee")
            },
        },
    }
    for hook in hooks:
        _deliver(ctx, hook, body, event)


def worklog_event(ctx: TwinContext, event: str, issue_id: str, worklog: dict[str, Any]) -> None:
    """`worklog_created|updated|deleted`: the worklog alone (it names its `issueId`)."""
    hooks = _matching(ctx, event, issue_id)
    body = {"timestamp": int(ctx.now() * 1000), "webhookEvent": event, "worklog": worklog}
    for hook in hooks:
        _deliver(ctx, hook, body, event)


def property_event(ctx: TwinContext, event: str, issue_id: str, prop: dict[str, Any]) -> None:
    """`issue_property_set|deleted`: the property (key and value) and the issue's id and key."""
    hooks = _matching(ctx, event, issue_id)
    if not hooks:
        return
    issue = _issue_payload(ctx, issue_id)
    if issue is None:
        return
    body = {
        "timestamp": int(ctx.now() * 1000),
        "webhookEvent": event,
        "issue": {"id": issue["id"], "key": issue["key"], "self": issue["self"]},
        "property": prop,
    }
    for hook in hooks:
        _deliver(ctx, hook, body, event)


def link_event(ctx: TwinContext, event: str, link: dict[str, Any]) -> None:
    """`issuelink_created|deleted` for admin webhooks (no JQL filtering: links are not issues)."""
    body = {"timestamp": int(ctx.now() * 1000), "webhookEvent": event, "issueLink": link}
    for hook in _subscribers(ctx, event):
        _deliver(ctx, hook, body, event)


def attachment_event(ctx: TwinContext, event: str, attachment: dict[str, Any]) -> None:
    """`attachment_created|deleted` for admin webhooks."""
    body = {"timestamp": int(ctx.now() * 1000), "webhookEvent": event, "attachment": attachment}
    for hook in _subscribers(ctx, event):
        _deliver(ctx, hook, body, event)


def entity_event(ctx: TwinContext, event: str, key: str, entity: dict[str, Any], **extra: Any) -> None:
    """Events about projects, versions, users, sprints and boards (`project_created`,
    `jira:version_released`, `sprint_started`...): `{timestamp, webhookEvent, <key>: entity}` to
    the admin webhooks that list the event. Not issues, so no JQL filtering (as Jira)."""
    hooks = _subscribers(ctx, event)
    if not hooks:
        return
    body = {"timestamp": int(ctx.now() * 1000), "webhookEvent": event, key: entity, **extra}
    for hook in hooks:
        _deliver(ctx, hook, body, event)
