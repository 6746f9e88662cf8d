"""apps.manifest.* methods (app configuration tokens, `xoxe-`).

`create` and `update` are async: when the manifest sets a new events request URL, Slack
verifies it with a signed `url_verification` challenge before it saves anything, so the
handshake runs between two units of work and never inside a transaction.
"""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack import events
from twins.slack.dependencies import Args, Call, slack_method
from twins.slack.service import apps


async def _verify(call: Call, plan: apps.Plan) -> None:
    if plan.verify_url is None:
        return
    problem = await events.verify_request_url(
        call.runtime,
        tenant=call.principal.tenant,
        app_id=plan.app_id,
        url=plan.verify_url,
        verification_token=plan.verification_token,
        signing_secret=plan.signing_secret,
        challenge=plan.challenge,
    )
    if problem is not None:
        raise apps.url_rejected(problem)


@slack_method("apps.manifest.create")
async def apps_manifest_create(call: Call) -> dict[str, Any]:
    manifest = apps.require_valid(apps.parse_manifest(call.args.raw.get("manifest")))
    team_id = call.args.str("team_id")
    plan = await call.unit(lambda ctx: apps.plan_create(ctx, manifest=manifest, team_id=team_id))
    await _verify(call, plan)
    return await call.unit(lambda ctx: apps.apply_create(ctx, plan=plan, manifest=manifest))


@slack_method("apps.manifest.update")
async def apps_manifest_update(call: Call) -> dict[str, Any]:
    raw = apps.parse_manifest(call.args.raw.get("manifest"))
    app_id = call.args.str("app_id")
    await call.unit(lambda ctx: apps.get_app(ctx, app_id))
    manifest = apps.require_valid(raw)
    plan = await call.unit(lambda ctx: apps.plan_update(ctx, app_id=app_id, manifest=manifest))
    await _verify(call, plan)
    return await call.unit(lambda ctx: apps.apply_update(ctx, plan=plan, manifest=manifest))


@slack_method("apps.manifest.export")
def apps_manifest_export(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return apps.export(ctx, app_id=args.str("app_id"))


@slack_method("apps.manifest.validate")
def apps_manifest_validate(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return apps.validate(
        ctx, manifest=apps.parse_manifest(args.raw.get("manifest")), app_id=args.str("app_id")
    )
