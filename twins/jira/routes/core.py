"""Server info, myself, users and groups."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from twins.jira.dependencies import int_param, multi, run_raw
from twins.jira.routes.common import API, Operations, Query, api_router, query_param
from twins.jira.service import users

router = api_router()
ops = Operations(router)


def _int(name: str, default: int) -> Query:
    return lambda request: int_param(request, name, default) or default


def _user_query(request: Request) -> str | None:
    q = request.query_params
    return q.get("query", q.get("username"))


PAGE = {"start_at": _int("startAt", 0), "max_results": _int("maxResults", 50)}
GROUP = {"name": query_param("groupname"), "group_id": query_param("groupId")}

ops.add("GET", API + "/serverInfo", "getServerInfo", users.server_info)
ops.add(
    "GET", API + "/myself", "getCurrentUser", users.myself, query={"expand": lambda r: multi(r, "expand")}
)
ops.add("GET", API + "/user", "getUser", users.get_user, query={"account_id": query_param("accountId")})
ops.add("POST", API + "/user", "createUser", users.create_user, body=True, status=201)
ops.add(
    "DELETE", API + "/user", "removeUser", users.remove_user, query={"account_id": query_param("accountId")}
)
ops.add(
    "GET",
    API + "/user/search",
    "findUsers",
    users.search_users,
    query={"query": _user_query, "account_id": query_param("accountId"), **PAGE},
)
ops.add(
    "GET",
    API + "/user/assignable/search",
    "findAssignableUsers",
    users.assignable_users,
    query={
        "project": query_param("project"),
        "issue_key": lambda r: r.query_params.get("issueKey") or r.query_params.get("issueId"),
        "query": _user_query,
        **PAGE,
    },
)
ops.add(
    "GET",
    API + "/user/bulk",
    "bulkGetUsers",
    users.bulk_users,
    query={
        "account_ids": lambda r: multi(r, "accountId") or [],
        "start_at": _int("startAt", 0),
        "max_results": _int("maxResults", 10),
    },
)
ops.add("GET", API + "/users/search", "getAllUsers", users.all_users, query=PAGE)
ops.add("GET", API + "/group/member", "getUsersFromGroup", users.group_members, query={**GROUP, **PAGE})
ops.add(
    "POST",
    API + "/group",
    "createGroup",
    lambda ctx, data: users.create_group(ctx, name=data.get("name")),
    body=True,
    status=201,
)
ops.add(
    "POST",
    API + "/group/user",
    "addUserToGroup",
    lambda ctx, data, **group: users.add_user_to_group(ctx, account_id=data.get("accountId"), **group),
    body=True,
    status=201,
    query=GROUP,
)
ops.add(
    "DELETE",
    API + "/group/user",
    "removeUserFromGroup",
    users.remove_user_from_group,
    query={**GROUP, "account_id": query_param("accountId")},
)
ops.add(
    "GET",
    API + "/user/assignable/multiProjectSearch",
    "findBulkAssignableUsers",
    users.assignable_in_projects,
    query={"project_keys": query_param("projectKeys"), "query": _user_query, **PAGE},
)
ops.add(
    "GET",
    API + "/user/groups",
    "getUserGroups",
    users.user_groups,
    query={"account_id": query_param("accountId")},
)
ops.add(
    "GET",
    API + "/group",
    "getGroup",
    users.get_group,
    query={**GROUP, "expand": lambda r: multi(r, "expand")},
)


@router.delete(API + "/group", operation_id="removeGroup")
async def remove_group(request: Request) -> Response:
    """200 with an empty body (not 204), as the reference says."""
    q = request.query_params
    await run_raw(
        request,
        lambda ctx: users.remove_group(
            ctx,
            name=q.get("groupname"),
            group_id=q.get("groupId"),
            swap_name=q.get("swapGroup"),
            swap_id=q.get("swapGroupId"),
        ),
    )
    return Response(status_code=200)


ops.add(
    "GET",
    API + "/group/bulk",
    "bulkGetGroups",
    users.bulk_groups,
    query={
        "group_ids": lambda r: r.query_params.getlist("groupId"),
        "group_names": lambda r: r.query_params.getlist("groupName"),
        **PAGE,
    },
)
ops.add(
    "GET",
    API + "/groups/picker",
    "findGroups",
    users.find_groups,
    query={
        "query": query_param("query"),
        "exclude": lambda r: r.query_params.getlist("exclude"),
        "exclude_ids": lambda r: r.query_params.getlist("excludeId"),
        "max_results": _int("maxResults", 20),
        "account_id": query_param("accountId"),
    },
)
