"""Slack workspace state: https://docs.slack.dev/reference/objects .

Every table is scoped by tenant (one tenant = one workspace) with a composite primary key,
so the same fixture ids can live in many tenants. Formatting for the wire lives in
`service/`, never here. Hot paths use these tables through Core (`dtu.db.table(Model)`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtu.db import Base, TenantScoped, table


class Team(TenantScoped, Base):
    """The workspace. https://docs.slack.dev/reference/methods/team.info"""

    __tablename__ = "slack_team"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    domain: Mapped[str]
    email_domain: Mapped[str] = mapped_column(default="")
    # Custom profile fields (team.profile.get): [{id, label, type, ordering, hint, ...}]
    profile_fields: Mapped[list[Any]] = mapped_column(JSON, default=list)


class User(TenantScoped, Base):
    """A member of the workspace (people and bot users). https://docs.slack.dev/reference/objects/user-object"""

    __tablename__ = "slack_user"
    __table_args__ = (Index("ix_slack_user_email", "tenant_id", "email"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str]
    name: Mapped[str]
    real_name: Mapped[str] = mapped_column(default="")
    display_name: Mapped[str] = mapped_column(default="")
    email: Mapped[str | None] = mapped_column(String(254))
    title: Mapped[str] = mapped_column(default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_owner: Mapped[bool] = mapped_column(default=False)
    is_bot: Mapped[bool] = mapped_column(default=False)
    is_app_user: Mapped[bool] = mapped_column(default=False)
    bot_id: Mapped[str | None] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(default=False)
    tz: Mapped[str] = mapped_column(default="America/Los_Angeles")
    tz_offset: Mapped[int] = mapped_column(default=-28800)
    color: Mapped[str] = mapped_column(default="9f69e7")
    presence: Mapped[str] = mapped_column(default="auto")  # what users.setPresence last set
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated: Mapped[int] = mapped_column(default=0)


class App(TenantScoped, Base):
    """An installed app and its configuration (what its manifest sets).
    https://docs.slack.dev/reference/app-manifest"""

    __tablename__ = "slack_app"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_url: Mapped[str | None] = mapped_column(String(2048))
    bot_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    interactivity_url: Mapped[str | None] = mapped_column(String(2048))
    slash_commands: Mapped[list[Any]] = mapped_column(JSON, default=list)
    signing_secret: Mapped[str]
    verification_token: Mapped[str]
    client_id: Mapped[str] = mapped_column(default="")
    client_secret: Mapped[str] = mapped_column(default="")
    # features.shortcuts: [{name, type: global|message, callback_id, description}]
    shortcuts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # settings.interactivity.message_menu_options_url: where block_suggestion goes
    options_url: Mapped[str | None] = mapped_column(String(2048))
    # oauth_config.redirect_urls: where the OAuth install flow may send the installer back
    redirect_urls: Mapped[list[str]] = mapped_column(JSON, default=list)


class Token(TenantScoped, Base):
    """An OAuth token: bot (`xoxb-`), user (`xoxp-`) or app configuration (`xoxe-`)."""

    __tablename__ = "slack_token"
    __table_args__ = (Index("ix_slack_token_token", "token", unique=True),)
    token: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str]  # bot | user | configuration
    user_id: Mapped[str | None] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    revoked: Mapped[bool] = mapped_column(default=False)


class Conversation(TenantScoped, Base):
    """A channel, private channel, DM (`im`) or group DM (`mpim`).
    https://docs.slack.dev/reference/objects/conversation-object"""

    __tablename__ = "slack_conversation"
    __table_args__ = (Index("ix_slack_conversation_name", "tenant_id", "name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str]  # channel | group | im | mpim
    name: Mapped[str | None] = mapped_column(String(255))
    is_private: Mapped[bool] = mapped_column(default=False)
    is_archived: Mapped[bool] = mapped_column(default=False)
    is_general: Mapped[bool] = mapped_column(default=False)
    creator: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[int]
    updated: Mapped[int] = mapped_column(default=0)
    topic: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    purpose: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    previous_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    im_user: Mapped[str | None] = mapped_column(String(32))  # the other party of an IM
    seq: Mapped[int] = mapped_column(default=0)  # creation order, the listing key


class Member(TenantScoped, Base):
    """Membership of a user in a conversation, with their read cursor."""

    __tablename__ = "slack_member"
    __table_args__ = (Index("ix_slack_member_user", "tenant_id", "user_id"),)
    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_read: Mapped[str] = mapped_column(String(32), default="0000000000.000000")
    is_open: Mapped[bool] = mapped_column(default=True)
    joined: Mapped[float] = mapped_column(default=0.0)


class Message(TenantScoped, Base):
    """A message; Slack keys it by (channel, ts), and ts is both its id and its order.
    https://docs.slack.dev/reference/objects/message-object"""

    __tablename__ = "slack_message"
    __table_args__ = (Index("ix_slack_message_thread", "tenant_id", "channel_id", "thread_ts"),)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    subtype: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(default="")
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    attachments: Mapped[list[Any] | None] = mapped_column(JSON)
    files: Mapped[list[Any] | None] = mapped_column(JSON)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    reply_count: Mapped[int] = mapped_column(default=0)
    reply_users: Mapped[list[str]] = mapped_column(JSON, default=list)
    latest_reply: Mapped[str | None] = mapped_column(String(32))
    is_broadcast: Mapped[bool] = mapped_column(default=False)
    edited: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # username, icons, metadata, client_msg_id
    written_at: Mapped[float] = mapped_column(default=0.0)  # twin clock at write (stale reads)


class Ephemeral(TenantScoped, Base):
    """An ephemeral message: shown to one user, never stored in history."""

    __tablename__ = "slack_ephemeral"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(default="")
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    attachments: Mapped[list[Any] | None] = mapped_column(JSON)
    bot_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(default="api")  # api | response_url | command


class Reaction(TenantScoped, Base):
    """An emoji reaction by one user on one message."""

    __tablename__ = "slack_reaction"
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)


class Pin(TenantScoped, Base):
    """A message pinned to a conversation."""

    __tablename__ = "slack_pin"
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    created: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(32))


class Bookmark(TenantScoped, Base):
    """A link bookmarked in a channel's header. https://docs.slack.dev/reference/methods/bookmarks.add"""

    __tablename__ = "slack_bookmark"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str]
    link: Mapped[str] = mapped_column(default="")
    emoji: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(default="link")
    entity_id: Mapped[str | None] = mapped_column(String(32))
    rank: Mapped[str] = mapped_column(default="")
    date_created: Mapped[int]
    date_updated: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(String(32), default="")


class File(TenantScoped, Base):
    """An uploaded file and its bytes. https://docs.slack.dev/reference/objects/file-object"""

    __tablename__ = "slack_file"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    title: Mapped[str] = mapped_column(default="")
    mimetype: Mapped[str] = mapped_column(default="application/octet-stream")
    filetype: Mapped[str] = mapped_column(default="binary")
    size: Mapped[int] = mapped_column(default=0)
    declared_length: Mapped[int] = mapped_column(default=0)
    created: Mapped[int]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    upload_key: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(default="pending")  # pending | uploaded | complete | deleted
    mode: Mapped[str] = mapped_column(default="hosted")  # hosted | snippet (snippet_type given)
    alt_txt: Mapped[str | None] = mapped_column(String(1000))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    shares: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(default=0)


class Usergroup(TenantScoped, Base):
    """A user group (@handle). https://docs.slack.dev/reference/objects/usergroup-object"""

    __tablename__ = "slack_usergroup"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str]
    handle: Mapped[str]
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    users: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    date_create: Mapped[int]
    date_update: Mapped[int] = mapped_column(default=0)
    date_delete: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(String(32), default="")


class View(TenantScoped, Base):
    """A modal or App Home view. https://docs.slack.dev/reference/views"""

    __tablename__ = "slack_view"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str]  # modal | home
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hash: Mapped[str] = mapped_column(String(64))
    root_view_id: Mapped[str | None] = mapped_column(String(32))
    previous_view_id: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    is_open: Mapped[bool] = mapped_column(default=True)
    seq: Mapped[int] = mapped_column(default=0)


class Trigger(TenantScoped, Base):
    """A trigger_id handed to an app with an interaction; it opens one modal within 3 s."""

    __tablename__ = "slack_trigger"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[float]
    used: Mapped[bool] = mapped_column(default=False)
    view_id: Mapped[str | None] = mapped_column(String(32))  # the modal it came from, for views.push


class ScheduledMessage(TenantScoped, Base):
    """A message waiting for its post_at. https://docs.slack.dev/reference/methods/chat.scheduleMessage"""

    __tablename__ = "slack_scheduled_message"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    post_at: Mapped[int] = mapped_column(index=True)
    date_created: Mapped[int]
    user_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(default="")
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    attachments: Mapped[list[Any] | None] = mapped_column(JSON)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    reply_broadcast: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(default="pending")  # pending | posted | deleted | failed
    posted_ts: Mapped[str | None] = mapped_column(String(32))


class Hook(TenantScoped, Base):
    """An incoming webhook or a response_url: an unauthenticated URL that posts to a channel."""

    __tablename__ = "slack_hook"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str]  # incoming | response_url
    channel_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))  # the message an action came from
    ephemeral_id: Mapped[int | None]  # set when that message is ephemeral (one user's copy)
    created: Mapped[float]
    uses: Mapped[int] = mapped_column(default=0)


class OAuthCode(TenantScoped, Base):
    """A temporary authorization code of the OAuth v2 install flow, exchanged once by
    oauth.v2.access within 10 minutes. https://docs.slack.dev/authentication/installing-with-oauth"""

    __tablename__ = "slack_oauth_code"
    __table_args__ = (Index("ix_slack_oauth_code_code", "code", unique=True),)
    code: Mapped[str] = mapped_column(String(128), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # bot scopes
    user_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    redirect_uri: Mapped[str | None] = mapped_column(String(2048))  # as given to authorize
    webhook_channel: Mapped[str | None] = mapped_column(String(32))  # incoming-webhook's channel
    issued_at: Mapped[float]
    used: Mapped[bool] = mapped_column(default=False)


class Reminder(TenantScoped, Base):
    """A reminder set by a person (reminders.add). https://docs.slack.dev/reference/methods/reminders.add"""

    __tablename__ = "slack_reminder"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str]
    time: Mapped[int | None]  # one-off reminders: when
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # recurring ones: how often
    complete_ts: Mapped[int] = mapped_column(default=0)
    seq: Mapped[int] = mapped_column(default=0)


class Star(TenantScoped, Base):
    """A saved item (stars.add): a message, a file or a conversation, private to one person."""

    __tablename__ = "slack_star"
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item: Mapped[str] = mapped_column(String(80), primary_key=True)  # "C1:ts", "F1" or "C1"
    type: Mapped[str]  # message | file | channel | im | group
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[str | None] = mapped_column(String(32))
    date_create: Mapped[int]
    seq: Mapped[int] = mapped_column(default=0)


class Dnd(TenantScoped, Base):
    """A person's Do Not Disturb: the daily schedule and any snooze. No row = Slack's default
    schedule (22:00 to 08:00 in the person's time zone)."""

    __tablename__ = "slack_dnd"
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    start_minute: Mapped[int] = mapped_column(default=22 * 60)  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column(default=8 * 60)
    snooze_end: Mapped[float | None]
    ended_until: Mapped[float | None]  # dnd.endDnd: the scheduled session in force ends early


class Emoji(TenantScoped, Base):
    """A custom emoji of the workspace (emoji.list): an image URL or an alias of another emoji."""

    __tablename__ = "slack_emoji"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    alias_for: Mapped[str | None] = mapped_column(String(100))
    user_id: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[int] = mapped_column(default=0)


TABLES = [
    table(Team),
    table(User),
    table(App),
    table(Token),
    table(Conversation),
    table(Member),
    table(Message),
    table(Ephemeral),
    table(Reaction),
    table(Pin),
    table(Bookmark),
    table(File),
    table(Usergroup),
    table(View),
    table(Trigger),
    table(ScheduledMessage),
    table(Hook),
    table(OAuthCode),
    table(Reminder),
    table(Star),
    table(Dnd),
    table(Emoji),
]

COLLECTIONS = {
    "teams": table(Team),
    "users": table(User),
    "apps": table(App),
    "conversations": table(Conversation),
    "members": table(Member),
    "messages": table(Message),
    "ephemeral": table(Ephemeral),
    "reactions": table(Reaction),
    "pins": table(Pin),
    "bookmarks": table(Bookmark),
    "files": table(File),
    "usergroups": table(Usergroup),
    "views": table(View),
    "scheduled_messages": table(ScheduledMessage),
    "hooks": table(Hook),
    "oauth_codes": table(OAuthCode),
    "reminders": table(Reminder),
    "stars": table(Star),
    "dnd": table(Dnd),
    "emoji": table(Emoji),
}
