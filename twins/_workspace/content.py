"""The content of Docs Editors files, kept in the Workspace store: where the Sheets and Docs twins
write, and what Drive exports.

A spreadsheet is its sheets (`workspace_sheet`, the Sheets API's `SheetProperties`) and their
non-empty cells (`workspace_cell`, `CellData`: the value as entered, as computed, as shown). A
document is a Docs API `Document` without its id and title (`workspace_document.content`: `body`
with its structural elements, `headers`, `lists`...). A new spreadsheet has one empty sheet,
`Sheet1` (id 0, 1000 x 26), and a new document one empty paragraph, as Google makes them.

Every write goes through this module, and each one is a write to the Drive file too (as on
Google): the file's `version` and `modifiedTime` move, its `lastModifyingUser` is the writer, and
`changes.list` gets an entry. Drive's exports read from here:
https://developers.google.com/workspace/drive/api/guides/ref-export-formats .
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import models, store
from twins._workspace.common import DOCUMENT, SPREADSHEET

SHEET = table(models.Sheet)
CELL = table(models.Cell)
DOC = table(models.Document)

DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26
BOM = "\ufeff"  # Drive's text/plain export of a document starts with one


# -- life cycle (called by the file graph) ----------------------------------------------------------


def create(ctx: TwinContext, file_id: str, mime: str) -> None:
    """The content of a new Docs Editors file: one empty sheet, or one empty paragraph."""
    if mime == SPREADSHEET:
        ctx.conn.execute(
            insert(SHEET).values(
                tenant_id=ctx.tenant,
                file_id=file_id,
                sheet_id=0,
                sheet_index=0,
                title="Sheet1",
                row_count=DEFAULT_ROWS,
                column_count=DEFAULT_COLUMNS,
                properties={},
            )
        )
    elif mime == DOCUMENT:
        ctx.conn.execute(
            insert(DOC).values(
                tenant_id=ctx.tenant,
                file_id=file_id,
                revision=1,
                content=document_content([("", "NORMAL_TEXT")]),
            )
        )


def copy(ctx: TwinContext, source: str, target: str) -> None:
    """`files.copy` of a Docs Editors file copies its content."""
    t = ctx.tenant
    for tbl in (SHEET, CELL, DOC):
        rows = [
            dict(r._mapping)
            for r in ctx.conn.execute(select(tbl).where(tbl.c.tenant_id == t, tbl.c.file_id == source))
        ]
        if rows:
            ctx.conn.execute(insert(tbl), [{**r, "file_id": target} for r in rows])


def drop(ctx: TwinContext, file_ids: Iterable[str]) -> None:
    """Files deleted for good lose their content."""
    ids = list(file_ids)
    for tbl in (CELL, SHEET, DOC):
        ctx.conn.execute(delete(tbl).where(tbl.c.tenant_id == ctx.tenant, tbl.c.file_id.in_(ids)))


def _written(ctx: TwinContext, file_id: str, user: str) -> None:
    """A content write is a write to the Drive file (version, modifiedTime, changes.list)."""
    row = store.get(ctx, file_id)
    if row is None:
        raise KeyError(file_id)
    store.touch(ctx, file_id, user=user, content_changed=True)
    store.record_change(ctx, file_id, "update", drive_id=row.drive_id, changed=("content",))


def _native(ctx: TwinContext, file_id: str, mime: str) -> None:
    row = store.get(ctx, file_id)
    if row is None or row.mime_type != mime:
        raise KeyError(f"{file_id} is not a {mime.rsplit('.', 1)[-1]} of tenant {ctx.tenant}")


# -- spreadsheets -----------------------------------------------------------------------------------


def sheets(ctx: TwinContext, file_id: str) -> list[Any]:
    """A spreadsheet's sheets, in tab order."""
    return list(
        ctx.conn.execute(
            select(SHEET)
            .where(SHEET.c.tenant_id == ctx.tenant, SHEET.c.file_id == file_id)
            .order_by(SHEET.c.sheet_index)
        )
    )


def add_sheet(
    ctx: TwinContext,
    file_id: str,
    *,
    title: str,
    user: str,
    sheet_id: int | None = None,
    rows: int = DEFAULT_ROWS,
    columns: int = DEFAULT_COLUMNS,
) -> int:
    """Add a sheet at the end of the tabs; answers its id."""
    _native(ctx, file_id, SPREADSHEET)
    where = (SHEET.c.tenant_id == ctx.tenant, SHEET.c.file_id == file_id)
    index = ctx.conn.execute(select(func.count()).select_from(SHEET).where(*where)).scalar() or 0
    if sheet_id is None:
        sheet_id = (ctx.conn.execute(select(func.max(SHEET.c.sheet_id)).where(*where)).scalar() or 0) + 1
    ctx.conn.execute(
        insert(SHEET).values(
            tenant_id=ctx.tenant,
            file_id=file_id,
            sheet_id=sheet_id,
            sheet_index=index,
            title=title,
            row_count=rows,
            column_count=columns,
            properties={},
        )
    )
    _written(ctx, file_id, user)
    return sheet_id


def extended_value(value: Any) -> dict[str, Any] | None:
    """A Python value as a Sheets `ExtendedValue` (what `valueInputOption=RAW` stores)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": str(value)}


def formatted_value(value: dict[str, Any] | None) -> str:
    """How a sheet shows an `ExtendedValue` in the automatic number format.
    Divergence: numbers show up to 15 significant digits (Sheets' automatic format rounds to
    fewer on screen, and exports what it shows)."""
    if not value:
        return ""
    if "boolValue" in value:
        return "TRUE" if value["boolValue"] else "FALSE"
    if "numberValue" in value:
        number = float(value["numberValue"])
        return (
            str(int(number)) if number.is_integer() and abs(number) < 1e15 else format(number, ".15g").upper()
        )
    if "errorValue" in value:
        return str(value["errorValue"].get("type", "#ERROR!"))
    return str(value.get("stringValue", value.get("formulaValue", "")))


def write_values(
    ctx: TwinContext,
    file_id: str,
    *,
    sheet_id: int,
    row: int,
    column: int,
    values: Sequence[Sequence[Any]],
    user: str,
) -> int:
    """Write a block of values with its top-left at (row, column), 0-based, as
    `values.update?valueInputOption=RAW` does (None or "" empties a cell); answers the number of
    cells written."""
    _native(ctx, file_id, SPREADSHEET)
    if not any(s.sheet_id == sheet_id for s in sheets(ctx, file_id)):
        raise KeyError(f"no sheet {sheet_id} in {file_id}")
    key = (CELL.c.tenant_id == ctx.tenant, CELL.c.file_id == file_id, CELL.c.sheet_id == sheet_id)
    count = 0
    for r, line in enumerate(values):
        for c, raw in enumerate(line):
            at = (CELL.c.row_index == row + r, CELL.c.column_index == column + c)
            ctx.conn.execute(delete(CELL).where(*key, *at))
            count += 1
            value = extended_value(raw)
            if value is None:
                continue
            ctx.conn.execute(
                insert(CELL).values(
                    tenant_id=ctx.tenant,
                    file_id=file_id,
                    sheet_id=sheet_id,
                    row_index=row + r,
                    column_index=column + c,
                    user_entered=value,
                    effective=value,
                    formatted=formatted_value(value),
                    extra={},
                )
            )
    _written(ctx, file_id, user)
    return count


def grid(ctx: TwinContext, file_id: str, sheet_id: int) -> list[list[str]]:
    """A sheet's shown values over its data range (from A1 to the last non-empty row and
    column); empty cells are ""."""
    cells = ctx.conn.execute(
        select(CELL.c.row_index, CELL.c.column_index, CELL.c.formatted, CELL.c.effective).where(
            CELL.c.tenant_id == ctx.tenant, CELL.c.file_id == file_id, CELL.c.sheet_id == sheet_id
        )
    ).all()
    if not cells:
        return []
    height = max(c.row_index for c in cells) + 1
    width = max(c.column_index for c in cells) + 1
    out = [[""] * width for _ in range(height)]
    for c in cells:
        out[c.row_index][c.column_index] = (
            c.formatted if c.formatted is not None else formatted_value(c.effective)
        )
    return out


def delimited(ctx: TwinContext, file_id: str, delimiter: str) -> bytes:
    """The first sheet as CSV or TSV, as Drive exports a spreadsheet: CRLF between rows and none
    after the last, fields quoted only where they must be, UTF-8 without a BOM."""
    first = next(iter(sheets(ctx, file_id)), None)
    if first is None:
        return b""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(grid(ctx, file_id, first.sheet_id))
    return buf.getvalue().removesuffix("\r\n").encode()


# -- documents --------------------------------------------------------------------------------------


def document_content(paragraphs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A Docs `Document` body made of paragraphs (text, namedStyleType), with Docs' indexes: a
    section break at 0-1, then each paragraph's text and its closing newline."""
    content: list[dict[str, Any]] = [
        {
            "endIndex": 1,
            "sectionBreak": {
                "sectionStyle": {
                    "columnSeparatorStyle": "NONE",
                    "contentDirection": "LEFT_TO_RIGHT",
                    "sectionType": "CONTINUOUS",
                }
            },
        }
    ]
    at = 1
    for text, style in paragraphs:
        run = text.replace("\n", "\u000b") + "\n"
        end = at + len(run.encode("utf-16-le")) // 2  # Docs indexes count UTF-16 code units
        content.append(
            {
                "startIndex": at,
                "endIndex": end,
                "paragraph": {
                    "elements": [
                        {"startIndex": at, "endIndex": end, "textRun": {"content": run, "textStyle": {}}}
                    ],
                    "paragraphStyle": {"namedStyleType": style, "direction": "LEFT_TO_RIGHT"},
                },
            }
        )
        at = end
    return {"body": {"content": content}}


def document(ctx: TwinContext, file_id: str) -> dict[str, Any]:
    """A document's content (the `Document` without `documentId` and `title`)."""
    _native(ctx, file_id, DOCUMENT)
    content = ctx.conn.execute(
        select(DOC.c.content).where(DOC.c.tenant_id == ctx.tenant, DOC.c.file_id == file_id)
    ).scalar()
    return dict(content or document_content([("", "NORMAL_TEXT")]))


def put_document(ctx: TwinContext, file_id: str, content: dict[str, Any], *, user: str) -> int:
    """Replace a document's content; answers its new revision number."""
    _native(ctx, file_id, DOCUMENT)
    where = (DOC.c.tenant_id == ctx.tenant, DOC.c.file_id == file_id)
    revision = ctx.conn.execute(select(DOC.c.revision).where(*where)).scalar()
    if revision is None:
        ctx.conn.execute(
            insert(DOC).values(tenant_id=ctx.tenant, file_id=file_id, revision=1, content=content)
        )
        revision = 1
    else:
        revision += 1
        ctx.conn.execute(update(DOC).where(*where).values(revision=revision, content=content))
    _written(ctx, file_id, user)
    return int(revision)


def _paragraphs(content: dict[str, Any]) -> Iterable[tuple[str, list[dict[str, Any]]]]:
    """(namedStyleType, text runs) of every paragraph of the body, tables' cells included."""

    def walk(elements: list[dict[str, Any]]) -> Iterable[tuple[str, list[dict[str, Any]]]]:
        for element in elements:
            if "paragraph" in element:
                para = element["paragraph"]
                style = (para.get("paragraphStyle") or {}).get("namedStyleType", "NORMAL_TEXT")
                runs = [e["textRun"] for e in para.get("elements", []) if "textRun" in e]
                yield style, runs
            elif "table" in element:
                for row in element["table"].get("tableRows", []):
                    for cell in row.get("tableCells", []):
                        yield from walk(cell.get("content", []))

    return walk(((content.get("body") or {}).get("content")) or [])


def plain_text(content: dict[str, Any]) -> bytes:
    """A document as Drive exports it to text/plain: a BOM, the paragraphs' text with CRLF line
    ends (soft line breaks too), no newline after the last paragraph."""
    lines = [
        "".join(r.get("content", "") for r in runs).removesuffix("\n").replace("\u000b", "\r\n")
        for _, runs in _paragraphs(content)
    ]
    return (BOM + "\r\n".join(lines)).encode()


_TAGS = {f"HEADING_{n}": f"h{n}" for n in range(1, 7)}


def _html_run(run: dict[str, Any]) -> str:
    text = html.escape(run.get("content", "").removesuffix("\n")).replace("\u000b", "<br>")
    style = run.get("textStyle") or {}
    css = []
    if style.get("bold"):
        css.append("font-weight:700")
    if style.get("italic"):
        css.append("font-style:italic")
    if style.get("underline"):
        css.append("text-decoration:underline")
    if style.get("strikethrough"):
        css.append("text-decoration:line-through")
    span = f'<span style="{";".join(css)}">{text}</span>' if css else f"<span>{text}</span>"
    link = (style.get("link") or {}).get("url")
    return f'<a href="{html.escape(link, quote=True)}">{span}</a>' if link else span


def html_text(content: dict[str, Any], title: str) -> bytes:
    """A document as an HTML page, as Drive's text/html export lays it out (one element per
    paragraph: `h1`-`h6` for headings, `p` otherwise, with class `title`/`subtitle`; text runs as
    `span`s). Divergence: Google's export also carries a generated stylesheet and class names
    for every style; this one writes the few styles it renders inline."""
    body = []
    for style, runs in _paragraphs(content):
        tag = _TAGS.get(style, "p")
        klass = {"TITLE": ' class="title"', "SUBTITLE": ' class="subtitle"'}.get(style, "")
        body.append(f"<{tag}{klass}>{''.join(_html_run(r) for r in runs)}</{tag}>")
    page = (
        '<html><head><meta content="text/html; charset=UTF-8" http-equiv="content-type">'
        f"<title>{html.escape(title)}</title></head>"
        f'<body class="doc-content">{"".join(body)}</body></html>'
    )
    return page.encode()


def markdown_text(content: dict[str, Any]) -> bytes:
    """A document as Markdown (Drive's text/markdown export): `#` headings, a blank line between
    paragraphs, **bold** and *italic* runs."""
    out = []
    for style, runs in _paragraphs(content):
        text = ""
        for run in runs:
            piece = run.get("content", "").removesuffix("\n").replace("\u000b", "  \n")
            s = run.get("textStyle") or {}
            if piece.strip() and s.get("bold"):
                piece = f"**{piece}**"
            if piece.strip() and s.get("italic"):
                piece = f"*{piece}*"
            text += piece
        if style.startswith("HEADING_"):
            text = "#" * int(style[-1]) + " " + text
        elif style == "TITLE":
            text = "# " + text
        if text:
            out.append(text)
    return ("\n\n".join(out) + ("\n" if out else "")).encode()
