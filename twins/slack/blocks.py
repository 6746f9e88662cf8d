"""Block Kit validation, as strict as Slack's on the points apps get wrong.

https://docs.slack.dev/reference/block-kit/blocks . Errors read as Slack writes them:
`missing required field: text [json-pointer:/blocks/0/text]`, reported in `errors` and in
`response_metadata.messages` with an `invalid_blocks` error.
"""

from __future__ import annotations

from typing import Any

from twins.slack.errors import InvalidBlocks, InvalidBlocksFormat

BLOCK_TYPES = {
    "section",
    "divider",
    "image",
    "actions",
    "context",
    "input",
    "header",
    "file",
    "rich_text",
    "video",
    "markdown",
    "call",
    "table",
    "context_actions",
}
TEXT_TYPES = {"plain_text", "mrkdwn"}
SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
}
INPUTS = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "rich_text_input",
    "file_input",
}
ELEMENTS = {"button", "overflow", "image", "workflow_button", *SELECTS, *INPUTS}


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.items.append(f"{message} [json-pointer:{pointer}]")


def _text(obj: Any, pointer: str, p: _Problems, *, max_len: int, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        p.add("expected an object", pointer)
        return
    kind = obj.get("type")
    if kind not in ({"plain_text"} if plain_only else TEXT_TYPES):
        p.add(f"must be one of {sorted({'plain_text'} if plain_only else TEXT_TYPES)}", f"{pointer}/type")
    text = obj.get("text")
    if not isinstance(text, str):
        p.add("missing required field: text", f"{pointer}/text")
    elif len(text) > max_len:
        p.add(f"must be less than {max_len + 1} characters", f"{pointer}/text")
    elif not text:
        p.add("must be more than 0 characters", f"{pointer}/text")


def _option(obj: Any, pointer: str, p: _Problems) -> None:
    if not isinstance(obj, dict):
        p.add("expected an object", pointer)
        return
    _text(obj.get("text"), f"{pointer}/text", p, max_len=75)
    if "value" in obj and (not isinstance(obj["value"], str) or len(obj["value"]) > 150):
        p.add("must be a string of at most 150 characters", f"{pointer}/value")


def _element(el: Any, pointer: str, p: _Problems) -> None:
    if not isinstance(el, dict):
        p.add("expected an object", pointer)
        return
    kind = el.get("type")
    if kind not in ELEMENTS:
        p.add(f"must be a valid element type, not {kind!r}", f"{pointer}/type")
        return
    action_id = el.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > 255):
        p.add("must be a string of at most 255 characters", f"{pointer}/action_id")
    if kind == "button":
        _text(el.get("text"), f"{pointer}/text", p, max_len=75, plain_only=True)
        if "value" in el and (not isinstance(el["value"], str) or len(el["value"]) > 2000):
            p.add("must be a string of at most 2000 characters", f"{pointer}/value")
        if "style" in el and el["style"] not in ("primary", "danger"):
            p.add("must be one of [primary, danger]", f"{pointer}/style")
    elif kind == "image":
        if not isinstance(el.get("alt_text"), str):
            p.add("missing required field: alt_text", f"{pointer}/alt_text")
        if "image_url" not in el and "slack_file" not in el:
            p.add("missing required field: image_url", f"{pointer}/image_url")
    elif kind in ("static_select", "multi_static_select", "overflow", "checkboxes", "radio_buttons"):
        options = el.get("options")
        if options is None and "option_groups" in el and kind.endswith("static_select"):
            return
        if not isinstance(options, list) or not options:
            p.add("missing required field: options", f"{pointer}/options")
            return
        for i, opt in enumerate(options):
            _option(opt, f"{pointer}/options/{i}", p)
    if "placeholder" in el:
        _text(el["placeholder"], f"{pointer}/placeholder", p, max_len=150, plain_only=True)


def validate(blocks: Any, *, limit: int, surface: str = "message") -> list[dict[str, Any]]:
    """Return the blocks if valid, else raise Slack's error."""
    if isinstance(blocks, dict) or not isinstance(blocks, list):
        raise InvalidBlocksFormat()
    p = _Problems()
    if len(blocks) > limit:
        p.add(f"must provide an array with at most {limit} items", "/blocks")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"/blocks/{i}"
        if not isinstance(block, dict):
            p.add("expected an object", ptr)
            continue
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            p.add(f"unsupported type: {kind}", f"{ptr}/type")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                p.add("must be a string of at most 255 characters", f"{ptr}/block_id")
            elif block_id in seen:
                p.add("duplicate block_id", f"{ptr}/block_id")
            else:
                seen.add(block_id)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                p.add("missing required field: text", f"{ptr}/text")
            if "text" in block:
                _text(block["text"], f"{ptr}/text", p, max_len=3000)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    p.add("must provide an array with at most 10 items", f"{ptr}/fields")
                else:
                    for j, f in enumerate(fields):
                        _text(f, f"{ptr}/fields/{j}", p, max_len=2000)
            if "accessory" in block:
                _element(block["accessory"], f"{ptr}/accessory", p)
        elif kind == "header":
            _text(block.get("text"), f"{ptr}/text", p, max_len=150, plain_only=True)
        elif kind == "image":
            if not isinstance(block.get("alt_text"), str):
                p.add("missing required field: alt_text", f"{ptr}/alt_text")
            if "image_url" not in block and "slack_file" not in block:
                p.add("missing required field: image_url", f"{ptr}/image_url")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                p.add("missing required field: elements", f"{ptr}/elements")
            elif len(elements) > 25:
                p.add("must provide an array with at most 25 items", f"{ptr}/elements")
            else:
                for j, el in enumerate(elements):
                    _element(el, f"{ptr}/elements/{j}", p)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                p.add("missing required field: elements", f"{ptr}/elements")
            elif len(elements) > 10:
                p.add("must provide an array with at most 10 items", f"{ptr}/elements")
            else:
                for j, el in enumerate(elements):
                    if isinstance(el, dict) and el.get("type") in TEXT_TYPES:
                        _text(el, f"{ptr}/elements/{j}", p, max_len=3000)
                    else:
                        _element(el, f"{ptr}/elements/{j}", p)
        elif kind == "input":
            _text(block.get("label"), f"{ptr}/label", p, max_len=2000, plain_only=True)
            if "element" not in block:
                p.add("missing required field: element", f"{ptr}/element")
            else:
                _element(block["element"], f"{ptr}/element", p)
        elif kind == "rich_text":
            if not isinstance(block.get("elements"), list):
                p.add("missing required field: elements", f"{ptr}/elements")
        elif kind == "markdown" and not isinstance(block.get("text"), str):
            p.add("missing required field: text", f"{ptr}/text")
    if p.items:
        raise InvalidBlocks(messages=[f"[ERROR] {m}" for m in p.items], extra={"errors": p.items})
    return blocks
