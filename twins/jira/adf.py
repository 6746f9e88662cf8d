"""Rich text both ways: Atlassian Document Format (API v3) and wiki markup (API v2).

https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/ and
https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa . The twin stores ADF and
converts on the way out, as Jira Cloud does for v2 reads. Covered: paragraphs, hard breaks,
headings h1-h6, bullet and numbered lists, code blocks, block quotes, rules, and the marks
strong (`*x*`), em (`_x_`), code (`{{x}}`), strike (`-x-`) and links (`[text|url]`).
Other nodes (tables, panels, media, mentions) keep their text and lose their shape on v2.
"""

from __future__ import annotations

import html
import re
from typing import Any

ADF = dict[str, Any]

_INLINE = re.compile(
    r"\{\{(?P<code>.+?)\}\}"
    r"|\[(?P<ltext>[^\[\]|]+)\|(?P<lurl>[^\[\]]+)\]"
    r"|\[(?P<bare>(?:https?|mailto):[^\[\]\s]+)\]"
    r"|(?<![\w*])\*(?P<strong>[^*\s](?:[^*]*[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<em>[^_\s](?:[^_]*[^_\s])?)_(?![\w_])"
    r"|(?<![\w-])-(?P<strike>[^-\s](?:[^-]*[^-\s])?)-(?![\w-])"
)


def doc(content: list[ADF]) -> ADF:
    return {"type": "doc", "version": 1, "content": content}


def is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict) and value.get("type") == "doc" and isinstance(value.get("content", []), list)
    )


# -- wiki -> ADF ------------------------------------------------------------------------------


def _inline(text: str) -> list[ADF]:
    out: list[ADF] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append({"type": "text", "text": text[pos : m.start()]})
        if m.group("code") is not None:
            out.append({"type": "text", "text": m.group("code"), "marks": [{"type": "code"}]})
        elif m.group("ltext") is not None:
            out.append(
                {
                    "type": "text",
                    "text": m.group("ltext"),
                    "marks": [{"type": "link", "attrs": {"href": m.group("lurl")}}],
                }
            )
        elif m.group("bare") is not None:
            out.append(
                {
                    "type": "text",
                    "text": m.group("bare"),
                    "marks": [{"type": "link", "attrs": {"href": m.group("bare")}}],
                }
            )
        else:
            for mark in ("strong", "em", "strike"):
                if m.group(mark) is not None:
                    inner = _inline(m.group(mark))
                    for node in inner:
                        node["marks"] = [*node.get("marks", []), {"type": mark}]
                    out.extend(inner)
        pos = m.end()
    if pos < len(text):
        out.append({"type": "text", "text": text[pos:]})
    return out


def _lines_inline(lines: list[str]) -> list[ADF]:
    content: list[ADF] = []
    for i, line in enumerate(lines):
        if i:
            content.append({"type": "hardBreak"})
        content.extend(_inline(line))
    return content


def wiki_to_adf(text: str | None) -> ADF | None:
    """Wiki markup (a v2 string) as an ADF document; None stays None."""
    if text is None:
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    blocks: list[ADF] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append({"type": "paragraph", "content": _lines_inline(para)})
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        code = re.match(r"^\{(code|noformat)(?::([^}]*))?\}(.*)$", stripped)
        if code:
            flush()
            body: list[str] = []
            rest = code.group(3)
            end_tag = "{" + code.group(1) + "}"
            if rest.endswith(end_tag):
                body.append(rest[: -len(end_tag)])
            else:
                if rest:
                    body.append(rest)
                i += 1
                while i < len(lines) and not lines[i].rstrip().endswith(end_tag):
                    body.append(lines[i])
                    i += 1
                if i < len(lines):
                    last = lines[i].rstrip()[: -len(end_tag)]
                    if last:
                        body.append(last)
            node: ADF = {"type": "codeBlock", "content": [{"type": "text", "text": "\n".join(body)}]}
            lang = (code.group(2) or "").split("|")[0].strip()
            if lang and code.group(1) == "code":
                node["attrs"] = {"language": lang}
            if not body or body == [""]:
                node["content"] = []
            blocks.append(node)
            i += 1
            continue
        heading = re.match(r"^h([1-6])\.\s+(.*)$", stripped)
        if heading:
            flush()
            blocks.append(
                {
                    "type": "heading",
                    "attrs": {"level": int(heading.group(1))},
                    "content": _inline(heading.group(2)),
                }
            )
        elif re.match(r"^(\*|#)\s+", stripped) and not re.match(r"^\*[^*\s].*\*$", stripped):
            flush()
            kind = "bulletList" if stripped[0] == "*" else "orderedList"
            marker = stripped[0]
            items: list[ADF] = []
            while i < len(lines) and re.match(rf"^\{marker}\s+", lines[i].strip()):
                item_text = re.sub(rf"^\{marker}\s+", "", lines[i].strip())
                items.append(
                    {"type": "listItem", "content": [{"type": "paragraph", "content": _inline(item_text)}]}
                )
                i += 1
            node = {"type": kind, "content": items}
            if kind == "orderedList":
                node["attrs"] = {"order": 1}
            blocks.append(node)
            continue
        elif stripped.startswith("bq. "):
            flush()
            blocks.append(
                {"type": "blockquote", "content": [{"type": "paragraph", "content": _inline(stripped[4:])}]}
            )
        elif stripped == "----":
            flush()
            blocks.append({"type": "rule"})
        elif stripped == "":
            flush()
        else:
            para.append(line)
        i += 1
    flush()
    return doc(blocks)


# -- ADF -> wiki ------------------------------------------------------------------------------


def _marks_wiki(node: ADF) -> str:
    text = str(node.get("text", ""))
    for mark in node.get("marks", []) or []:
        kind = mark.get("type")
        if kind == "code":
            text = "{{" + text + "}}"
        elif kind == "strong":
            text = f"*{text}*"
        elif kind == "em":
            text = f"_{text}_"
        elif kind == "strike":
            text = f"-{text}-"
        elif kind == "link":
            href = (mark.get("attrs") or {}).get("href", "")
            text = f"[{href}]" if text == href else f"[{text}|{href}]"
    return text


def _inline_wiki(nodes: list[ADF]) -> str:
    parts: list[str] = []
    for node in nodes or []:
        kind = node.get("type")
        if kind == "text":
            parts.append(_marks_wiki(node))
        elif kind == "hardBreak":
            parts.append("\n")
        elif kind == "mention":
            parts.append(f"[~accountid:{(node.get('attrs') or {}).get('id', '')}]")
        elif kind == "emoji":
            parts.append(
                str((node.get("attrs") or {}).get("text") or (node.get("attrs") or {}).get("shortName", ""))
            )
        elif kind == "inlineCard":
            url = (node.get("attrs") or {}).get("url", "")
            parts.append(f"[{url}|{url}|smart-link]")
        else:
            parts.append(_inline_wiki(node.get("content") or []))
    return "".join(parts)


def _block_wiki(node: ADF) -> str:
    kind = node.get("type")
    content = node.get("content") or []
    if kind == "paragraph":
        return _inline_wiki(content)
    if kind == "heading":
        return f"h{(node.get('attrs') or {}).get('level', 1)}. {_inline_wiki(content)}"
    if kind in ("bulletList", "orderedList"):
        marker = "*" if kind == "bulletList" else "#"
        lines = []
        for item in content:
            text = " ".join(_block_wiki(c) for c in item.get("content") or [])
            lines.append(f"{marker} {text}")
        return "\n".join(lines)
    if kind == "codeBlock":
        lang = (node.get("attrs") or {}).get("language")
        body = "".join(str(c.get("text", "")) for c in content)
        return ("{code:" + lang + "}" if lang else "{code}") + body + "{code}"
    if kind == "blockquote":
        return "bq. " + " ".join(_block_wiki(c) for c in content)
    if kind == "rule":
        return "----"
    if kind in (
        "table",
        "panel",
        "expand",
        "mediaSingle",
        "mediaGroup",
        "layoutSection",
        "layoutColumn",
        "tableRow",
        "tableCell",
        "tableHeader",
        "nestedExpand",
        "taskList",
        "decisionList",
    ):
        return "\n".join(t for t in (_block_wiki(c) for c in content) if t)
    return _inline_wiki(content)


def adf_to_wiki(value: ADF | None) -> str | None:
    """An ADF document as the wiki string API v2 answers with; None stays None."""
    if value is None:
        return None
    return "\n\n".join(_block_wiki(b) for b in value.get("content") or [])


# -- plain text and HTML ---------------------------------------------------------------------


def adf_to_text(value: ADF | None) -> str:
    """The words of a document (what text search indexes)."""
    if value is None:
        return ""
    parts: list[str] = []

    def walk(node: ADF) -> None:
        if node.get("type") == "text":
            parts.append(str(node.get("text", "")))
        elif node.get("type") == "hardBreak":
            parts.append("\n")
        for child in node.get("content") or []:
            walk(child)
        if node.get("type") in ("paragraph", "heading", "codeBlock", "listItem"):
            parts.append("\n")

    walk(value)
    return "".join(parts).strip()


def _html_inline(nodes: list[ADF]) -> str:
    out: list[str] = []
    for node in nodes or []:
        kind = node.get("type")
        if kind == "text":
            text = html.escape(str(node.get("text", "")))
            for mark in node.get("marks", []) or []:
                mk = mark.get("type")
                if mk == "strong":
                    text = f"<b>{text}</b>"
                elif mk == "em":
                    text = f"<em>{text}</em>"
                elif mk == "code":
                    text = f"<tt>{text}</tt>"
                elif mk == "strike":
                    text = f"<del>{text}</del>"
                elif mk == "underline":
                    text = f"<ins>{text}</ins>"
                elif mk == "link":
                    href = html.escape(str((mark.get("attrs") or {}).get("href", "")), quote=True)
                    text = f'<a href="{href}" class="external-link" rel="nofollow noreferrer">{text}</a>'
            out.append(text)
        elif kind == "hardBreak":
            out.append("<br/>")
        elif kind == "mention":
            attrs = node.get("attrs") or {}
            ident = html.escape(str(attrs.get("id", "")), quote=True)
            out.append(
                f'<a href="/secure/ViewProfile.jspa?accountId={ident}" class="user-hover" '
                f'data-account-id="{ident}">{html.escape(str(attrs.get("text", "")))}</a>'
            )
        elif kind == "emoji":
            attrs = node.get("attrs") or {}
            out.append(html.escape(str(attrs.get("text") or attrs.get("shortName", ""))))
        else:
            out.append(_html_inline(node.get("content") or []))
    return "".join(out)


def _html_block(node: ADF) -> str:
    kind = node.get("type")
    content = node.get("content") or []
    if kind == "paragraph":
        return f"<p>{_html_inline(content)}</p>"
    if kind == "heading":
        level = (node.get("attrs") or {}).get("level", 1)
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        anchor = html.escape(re.sub(r"\s+", "", adf_to_text(doc([node]))), quote=True)
        return f'<h{level}><a name="{anchor}"></a>{_html_inline(content)}</h{level}>'
    if kind in ("bulletList", "orderedList"):
        tag = "ul" if kind == "bulletList" else "ol"
        items = []
        for item in content:
            inner = "".join(
                _html_inline(c.get("content") or []) if c.get("type") == "paragraph" else _html_block(c)
                for c in item.get("content") or []
            )
            items.append(f"<li>{inner}</li>")
        return f"<{tag}>\n" + "\n".join(items) + f"\n</{tag}>"
    if kind == "codeBlock":
        lang = str((node.get("attrs") or {}).get("language") or "java")
        body = html.escape("".join(str(c.get("text", "")) for c in content))
        return (
            '<div class="code panel" style="border-width: 1px;"><div class="codeContent panelContent">\n'
            f'<pre class="code-{html.escape(lang, quote=True)}">{body}</pre>\n</div></div>'
        )
    if kind == "blockquote":
        return "<blockquote>" + "".join(_html_block(c) for c in content) + "</blockquote>"
    if kind == "rule":
        return "<hr />"
    if content and all(isinstance(c, dict) and c.get("type") in _BLOCKS for c in content):
        return "".join(_html_block(c) for c in content)
    return f"<p>{_html_inline(content)}</p>" if content else ""


_BLOCKS = {
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "codeBlock",
    "blockquote",
    "rule",
    "table",
    "tableRow",
    "tableCell",
    "tableHeader",
    "panel",
    "expand",
    "nestedExpand",
    "mediaSingle",
    "mediaGroup",
    "layoutSection",
    "layoutColumn",
    "taskList",
    "decisionList",
}


def adf_to_html(value: ADF | None) -> str | None:
    """`renderedFields` and `renderedBody`: the document as Jira's renderer writes HTML
    (`<p>`, `<b>`, `<em>`, `<tt>`, `<del>`, links, `<h1><a name=..></a>..</h1>`, lists, code
    panels, block quotes, rules); other nodes keep their text."""
    if value is None:
        return None
    return "\n".join(
        b for b in (_html_block(c) for c in value.get("content") or [] if isinstance(c, dict)) if b
    )


def validate_adf(value: Any) -> bool:
    """Jira's check on a v3 rich text value: a `doc` node of version 1 with a content list."""
    return (
        is_adf(value)
        and value.get("version") == 1
        and all(isinstance(c, dict) and "type" in c for c in value.get("content", []))
    )
