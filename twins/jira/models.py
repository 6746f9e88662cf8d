"""Jira Cloud site state: https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/ .

One tenant = one Jira site. Every table is scoped by tenant with a composite primary key, so
the same fixture ids (project 10000, status 10000...) can live in many tenants. Rich text
(descriptions, comment bodies) is stored as Atlassian Document Format and converted to wiki
markup for API v2 on the way out. Wire formatting lives in `service/`, never here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dtu.db import Base, TenantScoped, table


class User(TenantScoped, Base):
    """An Atlassian account on the site. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/"""

    __tablename__ = "jira_user"
    __table_args__ = (Index("ix_jira_user_email", "tenant_id", "email"),)
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str]
    active: Mapped[bool] = mapped_column(default=True)
    account_type: Mapped[str] = mapped_column(default="atlassian")
    time_zone: Mapped[str] = mapped_column(default="UTC")
    is_admin: Mapped[bool] = mapped_column(default=False)


class Token(TenantScoped, Base):
    """An API token (Basic `email:token`) or an OAuth bearer token, owned by one account."""

    __tablename__ = "jira_token"
    __table_args__ = (Index("ix_jira_token_token", "token", unique=True),)
    token: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))


class Group(TenantScoped, Base):
    """A user group (`jira-software-users`, `site-admins`...)."""

    __tablename__ = "jira_group"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class GroupMember(TenantScoped, Base):
    __tablename__ = "jira_group_member"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Project(TenantScoped, Base):
    """A project, its issue types, workflow and who may browse it (a simplified permission
    scheme: `browse_groups` empty means every user of the site)."""

    __tablename__ = "jira_project"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    lead: Mapped[str | None] = mapped_column(String(64))
    project_type: Mapped[str] = mapped_column(default="software")
    workflow: Mapped[str] = mapped_column(String(255))
    issue_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    browse_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    roles: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assignee_type: Mapped[str] = mapped_column(default="UNASSIGNED")
    deleted_at: Mapped[float | None] = mapped_column(default=None)
    """Set when the project went to the trash (`enableUndo`) or was deleted for good."""
    undoable: Mapped[bool] = mapped_column(default=False)
    schemes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The schemes it uses by kind (`permission`, `notification`, `issueSecurity`) and its
    `projectCategory`: ids of `Scheme` rows; a missing kind means the site's default."""


class Scheme(TenantScoped, Base):
    """A named site configuration projects point at: a permission, notification or issue
    security scheme, or a project category. The twin enforces browse permission through
    `Project.browse_groups`; a scheme here is what projects are created with and report."""

    __tablename__ = "jira_scheme"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")


class Component(TenantScoped, Base):
    __tablename__ = "jira_component"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    lead: Mapped[str | None] = mapped_column(String(64))


class Version(TenantScoped, Base):
    __tablename__ = "jira_version"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    released: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)
    release_date: Mapped[str | None] = mapped_column(String(10))
    start_date: Mapped[str | None] = mapped_column(String(10))


class IssueType(TenantScoped, Base):
    __tablename__ = "jira_issuetype"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    subtask: Mapped[bool] = mapped_column(default=False)
    hierarchy_level: Mapped[int] = mapped_column(default=0)


class Status(TenantScoped, Base):
    __tablename__ = "jira_status"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    category_id: Mapped[int] = mapped_column(default=2)


class Workflow(TenantScoped, Base):
    """A workflow: its statuses, initial status and transitions `{id, name, from, to, screen}`
    (`from` empty = a global transition, available from every status)."""

    __tablename__ = "jira_workflow"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(default="")
    statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    initial: Mapped[str] = mapped_column(String(32))
    transitions: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Field(TenantScoped, Base):
    """A custom field (`customfield_10030`); system fields are a fixed catalogue in service/fields.py."""

    __tablename__ = "jira_field"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str]
    kind: Mapped[
        str
    ]  # number | select | multiselect | date | datetime | user | labels | string | textarea | sprint | rank
    description: Mapped[str] = mapped_column(default="")
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Issue(TenantScoped, Base):
    """An issue. `custom` holds custom field values by field id (option ids, account ids,
    numbers, dates); `written_at` is when search's index last saw it."""

    __tablename__ = "jira_issue"
    __table_args__ = (
        Index("ix_jira_issue_key", "tenant_id", "key"),
        Index("ix_jira_issue_project", "tenant_id", "project_id"),
        # what JQL filters and sorts on most (service/pushdown.py)
        Index("ix_jira_issue_assignee", "tenant_id", "assignee"),
        Index("ix_jira_issue_status", "tenant_id", "status_id"),
        Index("ix_jira_issue_created", "tenant_id", "created"),
        Index("ix_jira_issue_updated", "tenant_id", "updated"),
        Index("ix_jira_issue_parent", "tenant_id", "parent_id"),  # an issue's subtasks
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    project_id: Mapped[str] = mapped_column(String(32))
    issuetype_id: Mapped[str] = mapped_column(String(32))
    status_id: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str]
    description: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    environment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(64))
    reporter: Mapped[str | None] = mapped_column(String(64))
    creator: Mapped[str | None] = mapped_column(String(64))
    priority_id: Mapped[str | None] = mapped_column(String(32))
    resolution_id: Mapped[str | None] = mapped_column(String(32))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    fix_versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    duedate: Mapped[str | None] = mapped_column(String(10))
    parent_id: Mapped[str | None] = mapped_column(String(32))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    watchers: Mapped[list[str]] = mapped_column(JSON, default=list)
    voters: Mapped[list[str]] = mapped_column(JSON, default=list)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rank: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[float]
    updated: Mapped[float]
    resolutiondate: Mapped[float | None]
    status_changed: Mapped[float]
    written_at: Mapped[float] = mapped_column(default=0.0)


class IssueKey(TenantScoped, Base):
    """A key an issue had before it moved to another project: it still leads to the issue."""

    __tablename__ = "jira_issue_key"
    __table_args__ = (Index("ix_jira_issue_key_issue", "tenant_id", "issue_id"),)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(32))


class BulkTask(TenantScoped, Base):
    """A bulk operation (`POST /bulk/issues/move`) and its outcome, for `GET /bulk/queue/{id}`."""

    __tablename__ = "jira_bulk_task"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submitted_by: Mapped[str] = mapped_column(String(64))
    created: Mapped[float]
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChangeGroup(TenantScoped, Base):
    """One entry of an issue's changelog: who, when, and the field items that changed."""

    __tablename__ = "jira_changelog"
    __table_args__ = (Index("ix_jira_changelog_issue", "tenant_id", "issue_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[float]
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Comment(TenantScoped, Base):
    __tablename__ = "jira_comment"
    __table_args__ = (Index("ix_jira_comment_issue", "tenant_id", "issue_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(String(64))
    update_author: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    visibility: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created: Mapped[float]
    updated: Mapped[float]


class Worklog(TenantScoped, Base):
    __tablename__ = "jira_worklog"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(String(64))
    update_author: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started: Mapped[float]
    time_spent_seconds: Mapped[int]
    created: Mapped[float]
    updated: Mapped[float]


class IssueLinkType(TenantScoped, Base):
    __tablename__ = "jira_issuelinktype"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    inward: Mapped[str]
    outward: Mapped[str]


class IssueLink(TenantScoped, Base):
    __tablename__ = "jira_issuelink"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type_id: Mapped[str] = mapped_column(String(32))
    inward_issue_id: Mapped[str] = mapped_column(String(32))
    outward_issue_id: Mapped[str] = mapped_column(String(32))


class RemoteLink(TenantScoped, Base):
    __tablename__ = "jira_remotelink"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(32))
    global_id: Mapped[str | None] = mapped_column(String(255))
    relationship: Mapped[str | None] = mapped_column(String(255))
    object: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    application: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Attachment(TenantScoped, Base):
    __tablename__ = "jira_attachment"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str]
    author: Mapped[str | None] = mapped_column(String(64))
    mime_type: Mapped[str]
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[float]


class Webhook(TenantScoped, Base):
    """An admin webhook (`/rest/webhooks/1.0/webhook`, fixture) or a dynamic one registered
    through `/rest/api/3/webhook` (expires after 30 days unless refreshed)."""

    __tablename__ = "jira_webhook"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str]  # admin | dynamic
    name: Mapped[str] = mapped_column(default="")
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    jql_filter: Mapped[str | None] = mapped_column(Text)  # JQL has no length limit
    field_ids_filter: Mapped[list[str] | None] = mapped_column(JSON)
    secret: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    expiration: Mapped[float | None]
    owner: Mapped[str | None] = mapped_column(String(64))
    exclude_body: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[float] = mapped_column(default=0.0)
    updated: Mapped[float] = mapped_column(default=0.0)


class Filter(TenantScoped, Base):
    """A saved JQL filter. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-filters/

    `share` holds Jira's share permissions (`global`, `authenticated`, `group`, `project`,
    `user`); `favourites` the account ids that marked it a favourite."""

    __tablename__ = "jira_filter"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(default="")
    jql: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(64))
    share: Mapped[list[Any]] = mapped_column(JSON, default=list)
    favourites: Mapped[list[str]] = mapped_column(JSON, default=list)


class Board(TenantScoped, Base):
    """An agile board: its saved filter decides its issues; it sits in a project (or a user's
    space). https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/"""

    __tablename__ = "jira_board"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str]
    type: Mapped[str]  # scrum | kanban
    project_id: Mapped[str | None] = mapped_column(String(32))
    filter_id: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(64))


class QuickFilter(TenantScoped, Base):
    """A board's quick filter (a JQL fragment offered above the board)."""

    __tablename__ = "jira_quickfilter"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    board_id: Mapped[int]
    name: Mapped[str]
    jql: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(default="")
    position: Mapped[int] = mapped_column(default=0)


class Sprint(TenantScoped, Base):
    """A sprint of a scrum board: future -> active -> closed."""

    __tablename__ = "jira_sprint"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    board_id: Mapped[int]
    name: Mapped[str]
    state: Mapped[str] = mapped_column(default="future")
    goal: Mapped[str] = mapped_column(default="")
    start_date: Mapped[float | None]
    end_date: Mapped[float | None]
    complete_date: Mapped[float | None]
    created: Mapped[float] = mapped_column(default=0.0)


TABLES = [
    table(m)
    for m in (
        User,
        Token,
        Group,
        GroupMember,
        Project,
        Scheme,
        Component,
        Version,
        IssueType,
        Status,
        Workflow,
        Field,
        Issue,
        IssueKey,
        BulkTask,
        ChangeGroup,
        Comment,
        Worklog,
        IssueLinkType,
        IssueLink,
        RemoteLink,
        Attachment,
        Webhook,
        Filter,
        Board,
        QuickFilter,
        Sprint,
    )
]

COLLECTIONS = {
    "users": table(User),
    "groups": table(Group),
    "projects": table(Project),
    "issuetypes": table(IssueType),
    "statuses": table(Status),
    "workflows": table(Workflow),
    "fields": table(Field),
    "issues": table(Issue),
    "changelog": table(ChangeGroup),
    "comments": table(Comment),
    "worklogs": table(Worklog),
    "links": table(IssueLink),
    "webhooks": table(Webhook),
    "filters": table(Filter),
    "boards": table(Board),
    "sprints": table(Sprint),
}
