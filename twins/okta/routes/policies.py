"""Policies and policy rules (`/api/v1/policies/...`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta.dependencies import authenticate, call, json_body, no_content, okta_json, query_bool
from twins.okta.routes.common import paged
from twins.okta.service import policies

router = APIRouter()
READ, MANAGE = "okta.policies.read", "okta.policies.manage"


@router.get("/api/v1/policies", operation_id="listPolicies")
async def list_policies(request: Request) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    items = await call(
        request,
        p,
        lambda ctx: policies.list_policies(
            ctx, policy_type=qp.get("type"), status=qp.get("status"), q=qp.get("q")
        ),
    )
    return paged(request, items, None)


@router.post("/api/v1/policies", operation_id="createPolicy")
async def create_policy(request: Request) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    activate = bool(query_bool(request, "activate", True))
    return okta_json(
        await call(request, p, lambda ctx: policies.create_policy(ctx, body=body, activate=activate))
    )


@router.get("/api/v1/policies/{policyId}", operation_id="getPolicy")
async def get_policy(request: Request, policyId: str) -> Response:
    p = await authenticate(request, READ)
    expand = request.query_params.get("expand")
    return okta_json(
        await call(request, p, lambda ctx: policies.get_policy(ctx, policy_id=policyId, expand=expand))
    )


@router.put("/api/v1/policies/{policyId}", operation_id="replacePolicy")
async def replace_policy(request: Request, policyId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: policies.replace_policy(ctx, policy_id=policyId, body=body))
    )


@router.delete("/api/v1/policies/{policyId}", operation_id="deletePolicy")
async def delete_policy(request: Request, policyId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: policies.delete_policy(ctx, policy_id=policyId))
    return no_content()


@router.post("/api/v1/policies/{policyId}/lifecycle/activate", operation_id="activatePolicy")
async def activate_policy(request: Request, policyId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: policies.set_status(ctx, policy_id=policyId, active=True))
    return no_content()


@router.post("/api/v1/policies/{policyId}/lifecycle/deactivate", operation_id="deactivatePolicy")
async def deactivate_policy(request: Request, policyId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: policies.set_status(ctx, policy_id=policyId, active=False))
    return no_content()


@router.get("/api/v1/policies/{policyId}/rules", operation_id="listPolicyRules")
async def list_policy_rules(request: Request, policyId: str) -> Response:
    p = await authenticate(request, READ)
    return paged(
        request, await call(request, p, lambda ctx: policies.list_rules(ctx, policy_id=policyId)), None
    )


@router.post("/api/v1/policies/{policyId}/rules", operation_id="createPolicyRule")
async def create_policy_rule(request: Request, policyId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    activate = bool(query_bool(request, "activate", True))
    return okta_json(
        await call(
            request,
            p,
            lambda ctx: policies.create_rule(ctx, policy_id=policyId, body=body, activate=activate),
        )
    )


@router.get("/api/v1/policies/{policyId}/rules/{ruleId}", operation_id="getPolicyRule")
async def get_policy_rule(request: Request, policyId: str, ruleId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(
        await call(request, p, lambda ctx: policies.get_rule(ctx, policy_id=policyId, rule_id=ruleId))
    )


@router.put("/api/v1/policies/{policyId}/rules/{ruleId}", operation_id="replacePolicyRule")
async def replace_policy_rule(request: Request, policyId: str, ruleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(
            request, p, lambda ctx: policies.replace_rule(ctx, policy_id=policyId, rule_id=ruleId, body=body)
        )
    )


@router.delete("/api/v1/policies/{policyId}/rules/{ruleId}", operation_id="deletePolicyRule")
async def delete_policy_rule(request: Request, policyId: str, ruleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: policies.delete_rule(ctx, policy_id=policyId, rule_id=ruleId))
    return no_content()


@router.post(
    "/api/v1/policies/{policyId}/rules/{ruleId}/lifecycle/activate", operation_id="activatePolicyRule"
)
async def activate_policy_rule(request: Request, policyId: str, ruleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(
        request, p, lambda ctx: policies.set_rule_status(ctx, policy_id=policyId, rule_id=ruleId, active=True)
    )
    return no_content()


@router.post(
    "/api/v1/policies/{policyId}/rules/{ruleId}/lifecycle/deactivate", operation_id="deactivatePolicyRule"
)
async def deactivate_policy_rule(request: Request, policyId: str, ruleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(
        request,
        p,
        lambda ctx: policies.set_rule_status(ctx, policy_id=policyId, rule_id=ruleId, active=False),
    )
    return no_content()
