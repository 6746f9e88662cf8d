"""Jira datasets: the default site (CONTRACT.md section 4) and the fixture loader.

A fixture is JSON: `schemes` (permission, notification and issue security schemes, project
categories), `users` (with `api_token`), `groups`, `statuses`, `workflows`,
`issuetypes`, `fields` (custom fields), `linktypes`, `projects` (with components, versions
and browse groups), `filters`, `boards` (a board without a `filter` gets one: its project,
by rank), `sprints`, `webhooks` and `issues`. Loading is an upsert by id,
so `POST /_dtu/seed` can add to a running site.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from dtu.context import TwinContext
from dtu.db import table, upsert
from dtu.ids import encode
from dtu.sql import Prepared
from twins.jira import models
from twins.jira.service import common

ADMIN = "5f0c1e8a2b7d3c0012a0ad01"
ALICE = "5f0c1e8a2b7d3c0012a0a11c"
BOB = "5f0c1e8a2b7d3c0012a0b0b0"
CAROL = "5f0c1e8a2b7d3c0012a0ca40"

TODO, IN_PROGRESS, IN_REVIEW, DONE = "10000", "3", "10002", "10001"
EPIC, TASK, SUBTASK, BUG, STORY = "10000", "10001", "10002", "10003", "10004"


def default_fixture() -> dict[str, Any]:
    return {
        # Jira Cloud's default schemes (permission scheme 0 is Cloud's own default id); one
        # issue security scheme without levels (it restricts nothing), as a Standard site may have.
        "schemes": [
            {
                "kind": "permission",
                "id": "0",
                "name": "Default Permission Scheme",
                "description": "This is the default Permission Scheme. Any new projects that are "
                "created will be assigned this scheme.",
            },
            {
                "kind": "notification",
                "id": "10000",
                "name": "Default Notification Scheme",
                "description": "",
            },
            {
                "kind": "issueSecurity",
                "id": "10000",
                "name": "Default Issue Security Scheme",
                "description": "No security levels yet: it restricts nothing.",
            },
        ],
        "users": [
            {
                "accountId": ADMIN,
                "email": "admin@example.com",
                "displayName": "DTU Admin",
                "admin": True,
                "api_token": "dtu-jira-token",
            },
            {
                "accountId": ALICE,
                "email": "alice@example.com",
                "displayName": "Alice Anderson",
                "admin": True,
                "api_token": "dtu-jira-alice-token",
            },
            {
                "accountId": BOB,
                "email": "bob@example.com",
                "displayName": "Bob Brown",
                "api_token": "dtu-jira-bob-token",
            },
            {
                "accountId": CAROL,
                "email": "carol@example.com",
                "displayName": "Carol Chen",
                "api_token": "dtu-jira-carol-token",
            },
        ],
        "groups": [
            {
                "groupId": "a1b2c3d4-0000-4000-8000-000000000001",
                "name": "site-admins",
                "members": [ADMIN, ALICE],
            },
            {
                "groupId": "a1b2c3d4-0000-4000-8000-000000000002",
                "name": "jira-software-users",
                "members": [ADMIN, ALICE, BOB, CAROL],
            },
            {
                "groupId": "a1b2c3d4-0000-4000-8000-000000000003",
                "name": "ops-team",
                "members": [ADMIN, ALICE, BOB],
            },
        ],
        "statuses": [
            {"id": TODO, "name": "To Do", "category": 2},
            {
                "id": IN_PROGRESS,
                "name": "In Progress",
                "category": 4,
                "description": "This issue is being actively worked on at the moment by the assignee.",
            },
            {"id": IN_REVIEW, "name": "In Review", "category": 4},
            {"id": DONE, "name": "Done", "category": 3},
        ],
        "workflows": [
            {
                "name": "DTU Simplified Workflow",
                "initial": TODO,
                "statuses": [TODO, IN_PROGRESS, DONE],
                "description": "To Do -> In Progress -> Done",
                "transitions": [
                    {"id": "21", "name": "Start Progress", "from": [TODO], "to": IN_PROGRESS},
                    {"id": "11", "name": "Stop Progress", "from": [IN_PROGRESS], "to": TODO},
                    {"id": "31", "name": "Done", "from": [IN_PROGRESS], "to": DONE},
                    {"id": "41", "name": "Reopen", "from": [DONE], "to": TODO},
                ],
            },
            {
                "name": "DTU Software Workflow",
                "initial": TODO,
                "statuses": [TODO, IN_PROGRESS, IN_REVIEW, DONE],
                "description": "To Do -> In Progress -> In Review -> Done, with a resolution screen",
                "transitions": [
                    {"id": "11", "name": "To Do", "from": [], "to": TODO},
                    {"id": "21", "name": "In Progress", "from": [TODO, IN_REVIEW], "to": IN_PROGRESS},
                    {"id": "51", "name": "Review", "from": [IN_PROGRESS], "to": IN_REVIEW},
                    {
                        "id": "31",
                        "name": "Done",
                        "from": [IN_REVIEW],
                        "to": DONE,
                        "screen": ["resolution", "comment", "assignee"],
                    },
                    {
                        "id": "61",
                        "name": "Won't Do",
                        "from": [TODO, IN_PROGRESS],
                        "to": DONE,
                        "screen": ["resolution", "comment"],
                    },
                ],
            },
        ],
        "issuetypes": [
            {
                "id": EPIC,
                "name": "Epic",
                "description": "A big user story that needs to be broken down.",
                "hierarchyLevel": 1,
            },
            {"id": TASK, "name": "Task", "description": "A small, distinct piece of work."},
            {
                "id": SUBTASK,
                "name": "Sub-task",
                "description": "A small piece of work that's part of a larger task.",
                "subtask": True,
                "hierarchyLevel": -1,
            },
            {"id": BUG, "name": "Bug", "description": "A problem or error."},
            {
                "id": STORY,
                "name": "Story",
                "description": "Functionality or a feature expressed as a user goal.",
            },
        ],
        "fields": [
            {"id": "customfield_10016", "name": "Story point estimate", "kind": "number"},
            {"id": "customfield_10019", "name": "Rank", "kind": "rank"},
            {"id": "customfield_10020", "name": "Sprint", "kind": "sprint"},
            {
                "id": "customfield_10030",
                "name": "Severity",
                "kind": "select",
                "options": [
                    {"id": "10100", "value": "Critical"},
                    {"id": "10101", "value": "Major"},
                    {"id": "10102", "value": "Minor"},
                ],
            },
            {
                "id": "customfield_10031",
                "name": "Platforms",
                "kind": "multiselect",
                "options": [
                    {"id": "10110", "value": "Web"},
                    {"id": "10111", "value": "iOS"},
                    {"id": "10112", "value": "Android"},
                ],
            },
            {"id": "customfield_10032", "name": "Review date", "kind": "date"},
            {"id": "customfield_10033", "name": "Reviewer", "kind": "user"},
            {"id": "customfield_10034", "name": "Tags", "kind": "labels"},
            {"id": "customfield_10035", "name": "Customer", "kind": "string"},
        ],
        "linktypes": [
            {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
            {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
            {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
            {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
        ],
        "projects": [
            {
                "id": "10000",
                "key": "DEMO",
                "name": "Demo Project",
                "lead": ADMIN,
                "description": "The default DTU project.",
                "workflow": "DTU Simplified Workflow",
                "issuetypes": [TASK, SUBTASK, BUG, STORY, EPIC],
                "components": [{"id": "10000", "name": "Backend"}, {"id": "10001", "name": "Frontend"}],
                "versions": [
                    {"id": "10000", "name": "1.0", "released": True, "releaseDate": "2024-01-31"},
                    {"id": "10001", "name": "2.0"},
                ],
            },
            {
                "id": "10001",
                "key": "OPS",
                "name": "Operations",
                "lead": ALICE,
                "description": "A software project with a review step; only ops-team may browse it.",
                "workflow": "DTU Software Workflow",
                "issuetypes": [TASK, SUBTASK, BUG, STORY, EPIC],
                "browseGroups": ["ops-team"],
            },
        ],
        "filters": [
            {
                "id": "10000",
                "name": "Filter for DEMO board",
                "jql": "project = DEMO ORDER BY Rank ASC",
                "owner": ADMIN,
                "share": [{"type": "project", "project": "10000"}],
            },
            {
                "id": "10001",
                "name": "Filter for OPS board",
                "jql": "project = OPS ORDER BY Rank ASC",
                "owner": ALICE,
                "share": [{"type": "project", "project": "10001"}],
            },
        ],
        "boards": [
            {"id": 1, "name": "DEMO board", "type": "scrum", "project": "10000", "filter": "10000"},
            {"id": 2, "name": "OPS board", "type": "kanban", "project": "10001", "filter": "10001"},
        ],
        "sprints": [{"id": 1, "board": 1, "name": "DEMO Sprint 1", "state": "future"}],
        "webhooks": [],
        "issues": [],
    }


def universe_fixture(universe: dict[str, Any]) -> dict[str, Any]:
    """The Jira part of a universe: its `people` become the site's users (admins are site
    admins; each gets API token `dtu-jira-<name>-token`, the first admin keeps `dtu-jira-token`),
    then the `jira` section's keys replace the defaults."""
    import hashlib

    fixture = default_fixture()
    people = universe.get("people")
    if people is not None:
        if not isinstance(people, list) or not all(isinstance(p, dict) and p.get("email") for p in people):
            raise ValueError("universe `people` is a list of mappings, each with an email")
        users = []
        first_admin = True
        for person in people:
            name = person.get("name") or person["email"].split("@")[0]
            admin = bool(person.get("admin"))
            users.append(
                {
                    "accountId": person.get("jira_account_id")
                    or hashlib.sha256(person["email"].lower().encode()).hexdigest()[:24],
                    "email": person["email"],
                    "admin": admin,
                    "displayName": person.get("real_name")
                    or " ".join(x for x in (person.get("first_name"), person.get("last_name")) if x)
                    or name,
                    "api_token": "dtu-jira-token" if admin and first_admin else f"dtu-jira-{name}-token",
                }
            )
            first_admin = first_admin and not admin
        fixture["users"] = users
        everyone = [u["accountId"] for u in users]
        admins = [u["accountId"] for u in users if u["admin"]]
        for group in fixture["groups"]:
            group["members"] = admins if group["name"] == "site-admins" else everyone
        for project in fixture["projects"]:
            project["lead"] = admins[0] if admins else everyone[0]
    section = universe.get("jira") or {}
    if not isinstance(section, dict):
        raise ValueError("universe `jira` is a mapping")
    fixture.update(section)
    return fixture


KNOWN_KEYS = {
    "schemes",
    "users",
    "groups",
    "statuses",
    "workflows",
    "issuetypes",
    "fields",
    "linktypes",
    "projects",
    "filters",
    "boards",
    "sprints",
    "webhooks",
    "issues",
}


class _Reservations:
    """The fixture's counter reservations (`reserve_id` per row), each kind's waiting to collapse
    into one, at the largest value: where the counter ends anyway after one each, since a
    reservation only raises it. A new tenant made ~40 of them (bench/profile_jira.py). `flush`
    writes them before anything takes or reads an id of those kinds."""

    def __init__(self, ctx: TwinContext) -> None:
        self.ctx = ctx
        self.batch = True
        self._reserved: dict[str, int] = {}

    def reserve(self, kind: str, value: int | str, base: int = 10000) -> None:
        if self.batch:
            try:
                n = int(value) - base + 1
            except (TypeError, ValueError):
                return
            if 0 < n < 2**62:  # far from any store's limit: it cannot fail when it is written
                self._reserved[kind] = max(self._reserved.get(kind, 0), n)
                return
        self.flush()
        common.reserve_id(self.ctx, kind, value, base)

    def stop(self) -> None:
        """Write what waits; from now on every reservation is written as it comes."""
        self.flush()
        self.batch = False

    def flush(self) -> None:
        for kind, n in self._reserved.items():
            self.ctx.ids.reserve(kind, n)
        self._reserved.clear()


class _Minted:
    """The API tokens of a new tenant's users: `ids.hex("api-token", 24)` each, their counter
    values taken at once (the same values, one statement)."""

    def __init__(self, ctx: TwinContext, n: int) -> None:
        self.ctx = ctx
        self.n = 0
        self.first = ctx.ids.take("api-token", n) if n else 0
        self.taken = n

    def next(self) -> str:
        if self.n >= self.taken:  # more than counted (cannot happen): one more, as before
            return self.ctx.ids.hex("api-token", 24)
        value = self.first + self.n
        self.n += 1
        return encode(self.ctx.ids.digest("api-token", value), 24, "0123456789abcdef")


_PROJECT_BY_ID = Prepared(
    select(table(models.Project)).where(
        table(models.Project).c.tenant_id == bindparam("tenant"),
        table(models.Project).c.id == bindparam("id"),
    )
)
_QUICK = table(models.QuickFilter)
_HAS_QUICK = Prepared(
    select(_QUICK.c.id).where(
        _QUICK.c.tenant_id == bindparam("tenant"), _QUICK.c.board_id == bindparam("board")
    )
)


def load_fixture(ctx: TwinContext, data: dict[str, Any], fresh_credentials: bool) -> dict[str, Any]:
    """Load a fixture into ctx's tenant. With fresh_credentials (a new tenant) every API token
    is minted anew so that it leads to this tenant alone; emails and account ids stay."""
    conn, t = ctx.conn, ctx.tenant
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise ValueError(f"unknown fixture keys {sorted(unknown)}")
    created: dict[str, Any] = {k: [] for k in ("users", "projects", "issues", "webhooks")}
    writes = _Reservations(ctx)
    users = data.get("users", [])
    minted = (
        _Minted(ctx, sum(1 for u in users if u.get("api_token")))
        if fresh_credentials and isinstance(users, list) and all(isinstance(u, dict) for u in users)
        else None
    )
    for u in data.get("users", []):
        upsert(
            conn,
            table(models.User),
            {"tenant_id": t, "account_id": u["accountId"]},
            {
                "email": u["email"].lower(),
                "display_name": u.get("displayName", u["email"]),
                "active": u.get("active", True),
                "is_admin": bool(u.get("admin")),
                "account_type": u.get("accountType", "atlassian"),
                "time_zone": u.get("timeZone", "UTC"),
            },
        )
        token = u.get("api_token")
        if token:
            if fresh_credentials:
                token = "dtu-jira-" + (minted.next() if minted is not None else ctx.ids.hex("api-token", 24))
            upsert(
                conn, table(models.Token), {"tenant_id": t, "token": token}, {"account_id": u["accountId"]}
            )
        created["users"].append(u["accountId"])
    for g in data.get("groups", []):
        upsert(conn, table(models.Group), {"tenant_id": t, "group_id": g["groupId"]}, {"name": g["name"]})
        for member in g.get("members", []):
            upsert(
                conn,
                table(models.GroupMember),
                {"tenant_id": t, "group_id": g["groupId"], "account_id": member},
                {},
            )
    for s in data.get("statuses", []):
        upsert(
            conn,
            table(models.Status),
            {"tenant_id": t, "id": s["id"]},
            {"name": s["name"], "category_id": s.get("category", 2), "description": s.get("description", "")},
        )
    for w in data.get("workflows", []):
        upsert(
            conn,
            table(models.Workflow),
            {"tenant_id": t, "name": w["name"]},
            {
                "description": w.get("description", ""),
                "statuses": w["statuses"],
                "initial": w["initial"],
                "transitions": w["transitions"],
            },
        )
    for it in data.get("issuetypes", []):
        upsert(
            conn,
            table(models.IssueType),
            {"tenant_id": t, "id": it["id"]},
            {
                "name": it["name"],
                "description": it.get("description", ""),
                "subtask": bool(it.get("subtask")),
                "hierarchy_level": it.get("hierarchyLevel", 0),
            },
        )
        writes.reserve("issuetype", it["id"])
    for f in data.get("fields", []):
        upsert(
            conn,
            table(models.Field),
            {"tenant_id": t, "id": f["id"]},
            {
                "name": f["name"],
                "kind": f["kind"],
                "description": f.get("description", ""),
                "options": f.get("options", []),
            },
        )
        writes.reserve("customfield", f["id"].removeprefix("customfield_"))
        for o in f.get("options", []):
            writes.reserve("option", o["id"], base=10100)
    for lt in data.get("linktypes", []):
        upsert(
            conn,
            table(models.IssueLinkType),
            {"tenant_id": t, "id": lt["id"]},
            {"name": lt["name"], "inward": lt["inward"], "outward": lt["outward"]},
        )
        writes.reserve("linktype", lt["id"])
    for sc in data.get("schemes", []):
        upsert(
            conn,
            table(models.Scheme),
            {"tenant_id": t, "kind": sc["kind"], "id": str(sc["id"])},
            {"name": sc["name"], "description": sc.get("description", "")},
        )
        writes.reserve(f"scheme:{sc['kind']}", sc["id"])
    for p in data.get("projects", []):
        upsert(
            conn,
            table(models.Project),
            {"tenant_id": t, "id": p["id"]},
            {
                "key": p["key"],
                "name": p["name"],
                "description": p.get("description", ""),
                "lead": p.get("lead"),
                "project_type": p.get("projectTypeKey", "software"),
                "workflow": p["workflow"],
                "issue_types": p.get("issuetypes", []),
                "browse_groups": p.get("browseGroups", []),
                "roles": p.get("roles", {}),
                "schemes": p.get("schemes", {}),
            },
        )
        writes.reserve("project", p["id"])
        for c in p.get("components", []):
            upsert(
                conn,
                table(models.Component),
                {"tenant_id": t, "id": c["id"]},
                {
                    "project_id": p["id"],
                    "name": c["name"],
                    "description": c.get("description", ""),
                    "lead": c.get("lead"),
                },
            )
            writes.reserve("component", c["id"])
        for v in p.get("versions", []):
            upsert(
                conn,
                table(models.Version),
                {"tenant_id": t, "id": v["id"]},
                {
                    "project_id": p["id"],
                    "name": v["name"],
                    "description": v.get("description", ""),
                    "released": bool(v.get("released")),
                    "archived": bool(v.get("archived")),
                    "release_date": v.get("releaseDate"),
                    "start_date": v.get("startDate"),
                },
            )
            writes.reserve("version", v["id"])
        created["projects"].append(p["key"])
    for f in data.get("filters", []):
        upsert(
            conn,
            table(models.Filter),
            {"tenant_id": t, "id": str(f["id"])},
            {
                "name": f["name"],
                "description": f.get("description", ""),
                "jql": f.get("jql", ""),
                "owner": f.get("owner"),
                "share": [
                    {**s, "id": s.get("id") or int(common.next_id(ctx, "sharepermission"))}
                    for s in f.get("share", [])
                ],
                "favourites": f.get("favourites", []),
            },
        )
        writes.reserve("filter", f["id"])
    writes.flush()  # boards take filter ids
    for b in data.get("boards", []):
        filter_id = b.get("filter")
        project = _PROJECT_BY_ID.first(conn, {"tenant": t, "id": b.get("project")})
        if filter_id is None and project is not None:
            filter_id = common.next_id(ctx, "filter")
            upsert(
                conn,
                table(models.Filter),
                {"tenant_id": t, "id": filter_id},
                {
                    "name": f"Filter for {b['name']}",
                    "description": "",
                    "jql": f"project = {project.key} ORDER BY Rank ASC",
                    "owner": project.lead,
                    "share": [
                        {
                            "id": int(common.next_id(ctx, "sharepermission")),
                            "type": "project",
                            "project": project.id,
                        }
                    ],
                    "favourites": [],
                },
            )
        upsert(
            conn,
            table(models.Board),
            {"tenant_id": t, "id": b["id"]},
            {
                "name": b["name"],
                "type": b.get("type", "scrum"),
                "project_id": b.get("project"),
                "filter_id": None if filter_id is None else str(filter_id),
                "owner": b.get("owner") or (project.lead if project is not None else None),
            },
        )
        writes.reserve("board", b["id"], base=1)
        if _HAS_QUICK.first(conn, {"tenant": t, "board": b["id"]}) is None:
            from twins.jira.service import agile

            agile.add_default_quick_filters(ctx, b["id"])
    for s in data.get("sprints", []):
        upsert(
            conn,
            table(models.Sprint),
            {"tenant_id": t, "id": s["id"]},
            {
                "board_id": s["board"],
                "name": s["name"],
                "state": s.get("state", "future"),
                "goal": s.get("goal", ""),
                "start_date": None,
                "end_date": None,
                "complete_date": None,
                "created": ctx.now(),
            },
        )
        writes.reserve("sprint", s["id"], base=1)
    if data.get("webhooks"):
        writes.stop()  # ids are reserved and taken in turn
    for w in data.get("webhooks", []):
        wid = int(w.get("id") or common.next_id(ctx, "webhook", base=1))
        upsert(
            conn,
            table(models.Webhook),
            {"tenant_id": t, "id": wid},
            {
                "kind": "admin",
                "name": w.get("name", ""),
                "url": w["url"],
                "events": w.get("events", []),
                "jql_filter": w.get("jqlFilter")
                or (w.get("filters") or {}).get("issue-related-events-section"),
                "field_ids_filter": w.get("fieldIdsFilter"),
                "secret": w.get("secret"),
                "enabled": w.get("enabled", True),
                "expiration": None,
                "owner": None,
                "exclude_body": bool(w.get("excludeBody")),
                "created": ctx.now(),
                "updated": ctx.now(),
            },
        )
        writes.reserve("webhook", wid, base=1)
        created["webhooks"].append(wid)
    writes.flush()
    if data.get("issues"):
        from twins.jira.service import issues

        common.memo(ctx).clear()  # catalogues written above
        admin = conn.execute(
            select(table(models.User).c.account_id)
            .where(table(models.User).c.tenant_id == t, table(models.User).c.is_admin.is_(True))
            .order_by(table(models.User).c.account_id)
        ).scalar()
        ctx.principal = common.Principal(t, admin or "", "", True, "2")
        created["issues"].extend(issues.create_many(ctx, [dict(spec) for spec in data["issues"]]))
        ctx.principal = None
    return created


def credentials(ctx: TwinContext) -> dict[str, Any]:
    """What `POST /_dtu/tenants` hands back (CONTRACT.md section 4 names), plus every user's
    token under `api_tokens` (email -> token) for tests that act as several people."""
    rows = _TOKENS.all(ctx.conn, {"tenant": ctx.tenant})
    by_email = {r.email: r.token for r in rows}
    main = by_email.get("admin@example.com") or next((r.token for r in rows if r.is_admin), None)
    email = (
        "admin@example.com"
        if "admin@example.com" in by_email
        else next((r.email for r in rows if r.token == main), None)
    )
    project = _FIRST_PROJECT.scalar(ctx.conn, {"tenant": ctx.tenant})
    return {"email": email, "api_token": main, "project": project, "api_tokens": by_email}


_USERS, _TOKENS_T = table(models.User), table(models.Token)
_TOKENS = Prepared(
    select(_USERS.c.email, _USERS.c.is_admin, _TOKENS_T.c.token)
    .select_from(
        _TOKENS_T.join(
            _USERS,
            (_USERS.c.tenant_id == _TOKENS_T.c.tenant_id) & (_USERS.c.account_id == _TOKENS_T.c.account_id),
        )
    )
    .where(_TOKENS_T.c.tenant_id == bindparam("tenant"))
    .order_by(_USERS.c.email)
)
_FIRST_PROJECT = Prepared(
    select(table(models.Project).c.key)
    .where(table(models.Project).c.tenant_id == bindparam("tenant"))
    .order_by(table(models.Project).c.id)
    .limit(1)
)
