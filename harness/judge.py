"""Judges: who says whether a trajectory satisfied its user.

The default judge is the scenario's deterministic checks. The LLM judge reads the user story and
the trajectory's trace, and answers through any OpenAI-compatible chat completions endpoint
(`--judge llm --judge-url http://127.0.0.1:8000/v1 --judge-model NAME`): a local model server,
or a hosted one. It is asked for one strict JSON verdict,

    {"verdict": "satisfied" | "unsatisfied", "reason": "<one sentence>"}

and the answer is read robustly (code fences, prose around the object, or a `VERDICT: ...`
line are accepted; two different verdicts, or none, are not). A judge that cannot answer (the
endpoint down, an HTTP error, no verdict in its answer) raises JudgeError: the trajectory is
then *unjudged*, reported as such, and not counted as an unsatisfied user.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from harness.http import Http, HttpError

MODES = ("checks", "llm", "both")

SYSTEM_PROMPT = """You judge whether a simulated user was satisfied by a software integration.
You get the user story (what the user expects) and the trace of one trajectory: the steps the
simulated people took, the checks the harness evaluated, every request the app under test made
to each SaaS service (with its status, and any fault the test injected), and every event or
webhook delivered to the app. Decide whether, in this trajectory, the user story came true.
Injected faults are part of the test: an app that recovers from them satisfies its user.
Answer with exactly one JSON object and nothing else:
{"verdict": "satisfied" or "unsatisfied", "reason": "<one sentence>"}"""


class JudgeError(Exception):
    """The judge could not give a verdict: not the app's fault, and not an unsatisfied user."""


@dataclass(frozen=True)
class Verdict:
    satisfied: bool
    reason: str
    raw: str


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_LINE = re.compile(r"(?im)^\W*verdict\W*[:=]\s*\W*(satisfied|unsatisfied)\b")
_REASON_LINE = re.compile(r"(?im)^\W*reason\W*[:=]\s*(.+)$")


def _verdict_word(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().strip(".!").lower()
        if word in ("satisfied", "yes", "pass", "true"):
            return True
        if word in ("unsatisfied", "not satisfied", "no", "fail", "false"):
            return False
    return None


def _objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object that can be read starting at a `{` of the text, in order."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            found.append(obj)
        i = text.find("{", end)
    return found


def parse_verdict(text: str) -> Verdict:
    """The verdict in a judge's answer, or JudgeError saying why there is none."""
    if not text or not text.strip():
        raise JudgeError("the judge answered nothing")
    candidates: list[tuple[bool, str]] = []
    bodies = [m.group(1) for m in _FENCE.finditer(text)] or [text]
    for body in bodies:
        for obj in _objects(body):
            keyed = {str(k).lower(): v for k, v in obj.items()}
            value = keyed.get("verdict", keyed.get("satisfied"))
            word = _verdict_word(value)
            if word is not None:
                candidates.append((word, str(keyed.get("reason") or keyed.get("explanation") or "")))
    if not candidates:
        said = _REASON_LINE.search(text)
        why = said.group(1).strip() if said else ""
        for m in _LINE.finditer(text):
            candidates.append((m.group(1).lower() == "satisfied", why))
    if not candidates:
        raise JudgeError(f"no verdict in the judge's answer: {text.strip()[:200]!r}")
    if len({c[0] for c in candidates}) > 1:
        raise JudgeError(f"the judge's answer holds both verdicts: {text.strip()[:200]!r}")
    satisfied, reason = candidates[0]
    return Verdict(satisfied, reason.strip()[:500], text)


def describe(story: str, trace: dict[str, Any], limit: int = 12000) -> str:
    """The story and the trace as the judge reads them: compact lines, the longest parts
    (request journals) cut first when over `limit` characters."""
    head = [
        f"User story: {story.strip()}",
        f"Scenario: {trace.get('scenario')}   trajectory: {trace.get('id')}",
        f"Inputs: {json.dumps(trace.get('inputs') or {}, default=str)}",
    ]
    if trace.get("error"):
        head.append(f"Harness error ({trace.get('error_kind')}): {trace['error']}")
    head.append("Steps (what the simulated people did):")
    for s in trace.get("steps") or []:
        outcome = "ok" if s.get("ok") else f"FAILED: {s.get('error')}"
        head.append(f"  - {s.get('id')} [{s.get('action')}] {outcome} {s.get('detail') or ''}".rstrip())
    head.append("Checks (evaluated by the harness):")
    for c in trace.get("checks") or []:
        head.append(
            f"  - {c.get('id')} [{c.get('action')}] {'held' if c.get('ok') else 'FAILED'}: {c.get('detail')}"
        )
    faults = trace.get("faults") or []
    head.append(
        "Faults injected: "
        + (", ".join(f"{f.get('twin')}:{f.get('rule')}({f.get('action')})" for f in faults) or "none")
    )
    body: list[str] = ["Requests to each service (method, operation, HTTP status, injected fault):"]
    for twin, entries in (trace.get("journal") or {}).items():
        for e in entries:
            fault = f" FAULT:{(e.get('fault') or {}).get('rule')}" if isinstance(e.get("fault"), dict) else ""
            body.append(
                f"  {twin} {e.get('method')} {e.get('operation') or e.get('path')} -> {e.get('status')}{fault}"
            )
    body.append("Events and webhooks delivered to the app (kind, state, attempt statuses):")
    for twin, items in (trace.get("deliveries") or {}).items():
        for d in items:
            attempts = [a.get("status") or a.get("error") for a in d.get("attempts") or []]
            body.append(f"  {twin} {d.get('kind')} [{d.get('state')}] attempts={attempts}")
    text = "\n".join(head + body)
    if len(text) > limit:
        keep = max(0, limit - len("\n".join(head)) - 40)
        text = "\n".join(head) + "\n" + "\n".join(body)[:keep] + "\n  ... (trace cut)"
    return text


class LlmJudge:
    """A chat completions client that turns a story and a trace into a Verdict."""

    name = "llm"

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        attempts: int = 3,
        max_trace_chars: int = 12000,
        http: Http | None = None,
    ) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.max_trace_chars = max_trace_chars
        self.http = http or Http(timeout_s=timeout_s)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "model": self.model}

    async def judge(self, story: str, trace: dict[str, Any]) -> Verdict:
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": 300,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": describe(story, trace, self.max_trace_chars)},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        for attempt in range(1, self.attempts + 1):
            try:
                r = await self.http.post(self.url, json=body, headers=headers, timeout=self.timeout_s)
            except HttpError as exc:
                raise JudgeError(f"the judge endpoint is unreachable: {exc}") from None
            if r.status_code in (429, 500, 502, 503, 504) and attempt < self.attempts:
                await asyncio.sleep(_retry_after(r.headers.get("retry-after"), attempt))
                continue
            if r.status_code != 200:
                raise JudgeError(f"the judge endpoint answered {r.status_code}: {_error_message(r.text)}")
            try:
                data = r.json()
                content = data["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                raise JudgeError(
                    f"the judge endpoint's answer is not a chat completion: {r.text[:200]!r}"
                ) from None
            if isinstance(content, list):  # content parts
                content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return parse_verdict(str(content or ""))
        raise JudgeError("the judge endpoint kept refusing")  # pragma: no cover - the loop returns


def _retry_after(value: str | None, attempt: int) -> float:
    try:
        return min(max(float(value or ""), 0.0), 10.0)
    except ValueError:
        return float(min(0.5 * 2**attempt, 10.0))


def _error_message(text: str) -> str:
    try:
        err = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return text[:200]
    if isinstance(err, dict):
        return str(err.get("message") or err)[:200]
    return str(err)[:200]
