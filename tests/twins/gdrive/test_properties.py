"""Hypothesis over random file trees, built through google-api-python-client (generateIds and
batch requests) in a fresh tenant per example:

- random `q` expressions (every term of the language, and/or/not, parentheses), `orderBy` with
  several keys and random page sizes agree with a reference evaluator written from Drive's
  search-terms guide, each file once per listing;
- nobody ever sees a file that no permission grants them: for every person, `files.get` answers
  a file exactly when a permission (on it or a folder above, for them, their group, their domain
  or anyone) grants it, and 404 otherwise; `files.list` lists a subset of that, exactly the
  files shared with them directly (`corpora=user`) or findable in the domain (`corpora=domain`),
  also after random unsharing and moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import google.oauth2.credentials
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtu.testing.server import TwinServer
from tests.twins.gdrive.conftest import error_of
from twins._workspace.seed import default_fixture

FOLDER = "application/vnd.google-apps.folder"
PEOPLE = ("alice@example.com", "bob@example.com", "carol@example.com")
GROUP = "engineering@example.com"
GROUP_MEMBERS = {"bob@example.com", "carol@example.com"}
DOMAIN = "example.com"
WORDS = ["alpha", "Beta", "gamma", "report", "Report-2024", "it's", "notes"]
FRAGMENTS = ["rep", "port", "ta", "2024", "s", "ALP", "t's"]  # `name contains` matches word prefixes only
MIMES = ["text/plain", "text/csv", "image/png"]
PROPS = [("stage", "draft"), ("stage", "final"), ("team", "x")]
TIMES = [1_700_000_000 + 86_400 * i for i in range(4)]
ROLES = ("reader", "commenter", "writer")
RANK = {"reader": 1, "commenter": 2, "writer": 3, "owner": 6}
GRANTEES = [
    ("user", "bob@example.com"),
    ("user", "carol@example.com"),
    ("group", GROUP),
    ("domain", DOMAIN),
    ("anyone", ""),
]


def rfc3339(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Perm:
    type: str
    who: str
    role: str
    discover: bool

    def matches(self, email: str) -> bool:
        if self.type == "user":
            return self.who == email
        if self.type == "group":
            return email in GROUP_MEMBERS
        return True  # domain example.com (everyone here) and anyone


@dataclass
class Node:
    index: int
    folder: bool
    parent: int | None  # None: the owner's My Drive
    owner: str
    name: str
    mime: str
    starred: bool
    trashed: bool
    description: str | None
    properties: dict[str, str]
    app_properties: dict[str, str]
    created: int
    modified: int
    perms: list[Perm] = field(default_factory=list)
    id: str = ""


# -- the tree -------------------------------------------------------------------------------------


@st.composite
def trees(draw: Callable[..., Any], min_size: int = 2, max_size: int = 8) -> list[Node]:
    nodes: list[Node] = []
    for i in range(draw(st.integers(min_size, max_size))):
        folders = [n.index for n in nodes if n.folder]
        parent = draw(st.one_of(st.none(), st.sampled_from(folders))) if folders else None
        owner = nodes[parent].owner if parent is not None else draw(st.sampled_from(PEOPLE[:2]))
        folder = draw(st.booleans())
        name = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2)))
        perms = []
        for kind, who in draw(st.lists(st.sampled_from(GRANTEES), max_size=2, unique=True)):
            if who == owner:
                continue
            perms.append(Perm(kind, who, draw(st.sampled_from(ROLES)), draw(st.booleans())))
        nodes.append(
            Node(
                index=i,
                folder=folder,
                parent=parent,
                owner=owner,
                name=name,
                mime=FOLDER if folder else draw(st.sampled_from(MIMES)),
                starred=draw(st.booleans()),
                trashed=draw(st.integers(0, 5)) == 0,
                description=draw(st.one_of(st.none(), st.sampled_from(WORDS))),
                properties=dict(draw(st.lists(st.sampled_from(PROPS), max_size=1))),
                app_properties=dict(draw(st.lists(st.sampled_from(PROPS), max_size=1))),
                created=draw(st.sampled_from(TIMES)),
                modified=draw(st.sampled_from(TIMES)),
                perms=perms,
            )
        )
    return nodes


class World:
    """A fresh tenant holding one random tree, with a Drive client per person."""

    def __init__(self, twin: TwinServer, clients: dict[str, Any], creds: dict[str, Any]) -> None:
        self.twin = twin
        self.clients = clients
        self.creds = creds
        fixture = default_fixture()
        fixture["tokens"] += [{"token": f"ya29.prop-{p}", "kind": "access", "email": p} for p in PEOPLE[1:]]
        made = twin.create_tenant(fixture)
        self.tenant = made["tenant"]
        for person, token in made["credentials"]["user_tokens"].items():
            if person in creds:
                creds[person].token = token
        self.roots = {p: clients[p].files().get(fileId="root", fields="id").execute()["id"] for p in PEOPLE}

    def close(self) -> None:
        self.twin.delete_tenant(self.tenant)

    def build(self, nodes: list[Node]) -> None:
        """Create the tree: ids first, then one batch of creates per owner, then the sharing and
        trashing; a failing part fails the example."""
        ids = self.clients["alice@example.com"].files().generateIds(count=len(nodes)).execute()["ids"]
        for node, fid in zip(nodes, ids, strict=True):
            node.id = fid
        for owner in PEOPLE[:2]:
            mine = [n for n in nodes if n.owner == owner]
            drive = self.clients[owner]
            self._batch(
                drive,
                [
                    drive.files().create(
                        body={
                            "id": n.id,
                            "name": n.name,
                            "mimeType": n.mime,
                            "parents": [nodes[n.parent].id if n.parent is not None else "root"],
                            "starred": n.starred,
                            "properties": n.properties,
                            "appProperties": n.app_properties,
                            "createdTime": rfc3339(n.created),
                            "modifiedTime": rfc3339(n.modified),
                            **({"description": n.description} if n.description else {}),
                        }
                    )
                    for n in mine
                ],
            )
            self._batch(
                drive,
                [
                    drive.permissions().create(fileId=n.id, body=_perm_body(p), sendNotificationEmail=False)
                    for n in mine
                    for p in n.perms
                ]
                + [drive.files().update(fileId=n.id, body={"trashed": True}) for n in mine if n.trashed],
            )

    @staticmethod
    def _batch(drive: Any, requests: list[Any]) -> list[Any]:
        answers: list[Any] = []

        def collect(_id: str, response: Any, exc: HttpError | None) -> None:
            if exc is not None:
                raise exc
            answers.append(response)

        for at in range(0, len(requests), 100):
            batch = drive.new_batch_http_request(callback=collect)
            for request in requests[at : at + 100]:
                batch.add(request)
            batch.execute()
        return answers


def _perm_body(p: Perm) -> dict[str, Any]:
    body: dict[str, Any] = {"type": p.type, "role": p.role}
    if p.type in ("user", "group"):
        body["emailAddress"] = p.who
    if p.type == "domain":
        body["domain"] = p.who
    if p.type in ("domain", "anyone"):
        body["allowFileDiscovery"] = p.discover
    return body


@pytest.fixture
def world(gdrive_twin: TwinServer) -> Iterator[Callable[[], World]]:
    """Makes a World per example; the three clients are built once (their tokens change)."""
    creds = {p: google.oauth2.credentials.Credentials(token="unset") for p in PEOPLE}
    url = gdrive_twin.url + "/discovery/v1/apis/{api}/{apiVersion}/rest"
    clients = {
        p: build(
            "drive",
            "v3",
            credentials=creds[p],
            discoveryServiceUrl=url,
            static_discovery=False,
            cache_discovery=False,
        )
        for p in PEOPLE
    }
    made: list[World] = []

    def make() -> World:
        w = World(gdrive_twin, clients, creds)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


# -- the reference: Drive's documented rules, written independently of the twin -----------------


class Reference:
    def __init__(self, nodes: list[Node], roots: dict[str, str]) -> None:
        self.nodes = nodes
        self.roots = roots

    def chain(self, node: Node) -> Iterator[tuple[Node, bool]]:
        """The node and every folder above it (with whether it is the node itself)."""
        current: Node | None = node
        own = True
        while current is not None:
            yield current, own
            current = self.nodes[current.parent] if current.parent is not None else None
            own = False

    def role(self, node: Node, email: str, *, reach: str = "all") -> int:
        """The best rank a permission grants `email` on `node` (0: none). `reach`: all, direct
        (user and group permissions only), domain (direct, and discoverable domain sharing)."""
        best = 0
        for at, own in self.chain(node):
            if at.owner == email:
                best = max(best, RANK["owner"] if own else RANK["writer"])
            for p in at.perms:
                if not p.matches(email):
                    continue
                if p.type in ("domain", "anyone") and (
                    reach == "direct" or (reach == "domain" and (p.type == "anyone" or not p.discover))
                ):
                    continue
                best = max(best, RANK[p.role])
        return best

    def can_see(self, node: Node, email: str) -> bool:
        return self.role(node, email) > 0

    def listed(self, node: Node, email: str, corpora: str = "user") -> bool:
        return (
            self.can_see(node, email)
            and self.role(node, email, reach="domain" if corpora == "domain" else "direct") > 0
        )

    def trashed(self, node: Node) -> bool:
        return any(at.trashed for at, _own in self.chain(node))

    def emails_with(self, node: Node, minimum: int) -> set[str]:
        """Owners and user/group grantees (by the permission's email) with at least `minimum`,
        on the node or inherited."""
        out: set[str] = set()
        for at, own in self.chain(node):
            if RANK["owner" if own else "writer"] >= minimum:
                out.add(at.owner)
            out |= {p.who for p in at.perms if p.type in ("user", "group") and RANK[p.role] >= minimum}
        return out

    def visibility(self, node: Node) -> str:
        for p in node.perms:
            if p.type == "anyone":
                return "anyoneCanFind" if p.discover else "anyoneWithLink"
        for p in node.perms:
            if p.type == "domain":
                return "domainCanFind" if p.discover else "domainWithLink"
        return "limited"

    def evaluate(self, q: Any, node: Node, me: str) -> bool:
        op = q[0]
        if op == "not":
            return not self.evaluate(q[1], node, me)
        if op == "and":
            return self.evaluate(q[1], node, me) and self.evaluate(q[2], node, me)
        if op == "or":
            return self.evaluate(q[1], node, me) or self.evaluate(q[2], node, me)
        term, operator, value = q
        if term == "name":
            if operator == "contains":
                starts = [0] + [m.start() for m in re.finditer(r"[0-9A-Za-z]+", node.name)]
                return any(node.name[s:].lower().startswith(value.lower()) for s in starts)
            return (node.name == value) == (operator == "=")
        if term == "mimeType":
            if operator == "contains":
                return value.lower() in node.mime.lower()
            return (node.mime == value) == (operator == "=")
        if term == "fullText":
            words = re.findall(r"[0-9A-Za-z]+", f"{node.name} {node.description or ''}".lower())
            needle = re.findall(r"[0-9A-Za-z]+", value.lower())
            return bool(needle) and any(words[i : i + len(needle)] == needle for i in range(len(words)))
        if term in ("trashed", "starred", "sharedWithMe"):
            actual = {
                "trashed": self.trashed(node),
                "starred": node.starred,
                "sharedWithMe": node.owner != me
                and any(p.type in ("user", "group") and p.matches(me) for p in node.perms),
            }[term]
            return (actual == value) == (operator == "=")
        if term in ("createdTime", "modifiedTime"):
            actual = node.created if term == "createdTime" else node.modified
            return {
                "=": actual == value,
                "!=": actual != value,
                "<": actual < value,
                "<=": actual <= value,
                ">": actual > value,
                ">=": actual >= value,
            }[operator]
        if term == "in":
            collection, who = operator, value
            if collection == "parents":
                parent = self.nodes[node.parent].id if node.parent is not None else self.roots[node.owner]
                return (self.roots[me] if who == "root" else who) == parent
            who = me if who == "me" else who
            if collection == "owners":
                return who == node.owner
            return who in self.emails_with(
                node, RANK["writer"] if collection == "writers" else RANK["reader"]
            )
        if term in ("properties", "appProperties"):
            props = node.properties if term == "properties" else node.app_properties
            return props.get(operator) == value
        if term == "visibility":
            return (self.visibility(node) == value) == (operator == "=")
        raise AssertionError(q)


# -- queries -------------------------------------------------------------------------------------


def leaves(nodes: list[Node]) -> st.SearchStrategy[Any]:
    folder_ids = [n.id for n in nodes if n.folder] + ["root"]
    eq = st.sampled_from(["=", "!="])
    cmp = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
    people = st.sampled_from([*PEOPLE, GROUP, "me"])
    return st.one_of(
        st.tuples(
            st.just("name"), st.sampled_from(["=", "!="]), st.sampled_from([n.name for n in nodes] + WORDS)
        ),
        st.tuples(st.just("name"), st.just("contains"), st.sampled_from(WORDS + FRAGMENTS)),
        st.tuples(
            st.just("mimeType"),
            st.sampled_from(["=", "!=", "contains"]),
            st.sampled_from([*MIMES, FOLDER, "text", "image/"]),
        ),
        st.tuples(
            st.just("fullText"),
            st.just("contains"),
            st.sampled_from([*WORDS, "alpha beta", '"report notes"']),
        ),
        st.tuples(st.sampled_from(["trashed", "starred", "sharedWithMe"]), eq, st.booleans()),
        st.tuples(st.sampled_from(["createdTime", "modifiedTime"]), cmp, st.sampled_from(TIMES)),
        st.tuples(st.just("in"), st.just("parents"), st.sampled_from(folder_ids)),
        st.tuples(st.just("in"), st.sampled_from(["owners", "writers", "readers"]), people),
        st.builds(
            lambda term, kv: (term, kv[0], kv[1]),
            st.sampled_from(["properties", "appProperties"]),
            st.sampled_from(PROPS),
        ),
        st.tuples(
            st.just("visibility"),
            eq,
            st.sampled_from(
                ["anyoneCanFind", "anyoneWithLink", "domainCanFind", "domainWithLink", "limited"]
            ),
        ),
    )


def queries(nodes: list[Node]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves(nodes),
        lambda inner: st.one_of(
            st.tuples(st.just("not"), inner), st.tuples(st.sampled_from(["and", "or"]), inner, inner)
        ),
        max_leaves=5,
    )


def quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def text(q: Any) -> str:
    if q[0] == "not":
        return f"not ({text(q[1])})"
    if q[0] in ("and", "or"):
        right = text(q[2])
        if q[0] == "or" or q[2][0] == "or":  # `a and b or c` would bind as `(a and b) or c`
            right = f"({right})"
        return f"({text(q[1])}) {q[0]} {right}"
    term, operator, value = q
    if term == "in":
        return f"{quoted(value)} in {operator}"
    if term in ("properties", "appProperties"):
        return f"{term} has {{ key={quoted(operator)} and value={quoted(value)} }}"
    if isinstance(value, bool):
        return f"{term} {operator} {str(value).lower()}"
    if isinstance(value, int):
        return f"{term} {operator} {quoted(rfc3339(value))}"
    return f"{term} {operator} {quoted(value)}"


ORDERS: dict[str, Callable[[Node], tuple[Any, ...]]] = {
    "": lambda n: (),
    "name": lambda n: (n.name.lower(),),
    "folder,name desc": lambda n: (0 if n.folder else 1, _Desc(n.name.lower())),
    "starred desc,createdTime": lambda n: (_Desc(n.starred), n.created),
    "modifiedTime desc,name_natural": lambda n: (_Desc(n.modified), _natural(n.name)),
}


class _Desc:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and other.value == self.value


def _natural(name: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in re.split(r"(\d+)", name) if p]


def listing(drive: Any, **kw: Any) -> list[str]:
    out: list[str] = []
    token = None
    while True:
        page = drive.files().list(fields="nextPageToken,files(id)", pageToken=token, **kw).execute()
        out.extend(f["id"] for f in page["files"])
        token = page.get("nextPageToken")
        if not token:
            return out


def creation_order(nodes: list[Node]) -> list[Node]:
    """The order the twin made them in: alice's batch, then bob's."""
    return [n for owner in PEOPLE[:2] for n in nodes if n.owner == owner]


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@SETTINGS
@given(nodes=trees(), data=st.data())
def test_random_queries_over_random_trees_match_the_reference(
    world: Callable[[], World], nodes: list[Node], data: st.DataObject
) -> None:
    w = world()
    w.build(nodes)
    ref = Reference(nodes, w.roots)
    made = creation_order(nodes)
    for _ in range(6):
        me = data.draw(st.sampled_from(PEOPLE), label="viewer")
        q = data.draw(queries(nodes), label="q")
        order = data.draw(st.sampled_from(sorted(ORDERS)), label="orderBy")
        size = data.draw(st.sampled_from([1, 2, 3, 5, 100]), label="pageSize")
        wanted = [n for n in made if ref.listed(n, me) and ref.evaluate(q, n, me)]
        wanted.sort(key=lambda n: (*ORDERS[order](n), made.index(n)))
        kw = {"q": text(q), "pageSize": size, **({"orderBy": order} if order else {})}
        if order and "fullText" in kw["q"]:  # Drive orders fullText results by relevance only
            with pytest.raises(HttpError) as info:
                listing(w.clients[me], **kw)
            assert info.value.resp.status == 400
            assert error_of(info.value)["errors"][0]["location"] == "orderBy"
            continue
        got = listing(w.clients[me], **kw)
        assert len(got) == len(set(got)), "a page repeated a file"
        assert got == [n.id for n in wanted], (me, kw)


@st.composite
def changes(draw: Callable[..., Any], nodes: list[Node]) -> list[tuple[str, int, Any]]:
    """Random unsharing (a permission of a node) and moves (a file to a folder of its owner)."""
    out: list[tuple[str, int, Any]] = []
    for _ in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(nodes))
        if node.perms and draw(st.booleans()):
            out.append(("unshare", node.index, draw(st.integers(0, len(node.perms) - 1))))
        elif not node.folder:
            folders = [n.index for n in nodes if n.folder and n.owner == node.owner]
            out.append(("move", node.index, draw(st.one_of(st.none(), *map(st.just, folders)))))
    return out


def _apply(w: World, nodes: list[Node], change: tuple[str, int, Any]) -> None:
    kind, index, arg = change
    node = nodes[index]
    drive = w.clients[node.owner]
    if kind == "unshare":
        if arg >= len(node.perms):
            return
        perm = node.perms.pop(arg)
        ids = {
            p["type"] + ":" + (p.get("emailAddress") or p.get("domain") or ""): p["id"]
            for p in drive.permissions()
            .list(fileId=node.id, fields="permissions(id,type,emailAddress,domain)")
            .execute()["permissions"]
        }
        drive.permissions().delete(fileId=node.id, permissionId=ids[perm.type + ":" + perm.who]).execute()
        return
    old = nodes[node.parent].id if node.parent is not None else "root"
    new = nodes[arg].id if arg is not None else "root"
    if new != old:
        drive.files().update(fileId=node.id, addParents=new, removeParents=old).execute()
        node.parent = arg


@SETTINGS
@given(nodes=trees(), data=st.data())
def test_nobody_sees_a_file_no_permission_grants(
    world: Callable[[], World], nodes: list[Node], data: st.DataObject
) -> None:
    w = world()
    w.build(nodes)
    for change in [None, *data.draw(changes(nodes), label="changes")]:
        if change is not None:
            _apply(w, nodes, change)
        ref = Reference(nodes, w.roots)
        made = creation_order(nodes)
        for me in PEOPLE:
            drive = w.clients[me]
            seen: dict[str, int] = {}

            def answer(
                request_id: str, _response: Any, exc: HttpError | None, seen: dict[str, int] = seen
            ) -> None:
                seen[request_id] = exc.resp.status if exc is not None else 200

            batch = drive.new_batch_http_request(callback=answer)
            for n in nodes:
                batch.add(drive.files().get(fileId=n.id, fields="id"), request_id=n.id)
            batch.execute()
            assert seen == {n.id: 200 if ref.can_see(n, me) else 404 for n in nodes}, me
            for corpora in ("user", "domain"):
                got = listing(drive, corpora=corpora, pageSize=3)
                assert set(got) <= {n.id for n in nodes if ref.can_see(n, me)}
                assert got == [n.id for n in made if ref.listed(n, me, corpora)], (me, corpora)
