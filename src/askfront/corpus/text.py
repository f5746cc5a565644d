"""Plain text and Markdown (YAML front matter becomes metadata)."""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

from askfront.corpus.base import Parsed, clean, decode, parse_date, short_reason, tidy

logger = logging.getLogger(__name__)

_METADATA_BUDGET = 10_000  # values copied per front-matter key (YAML aliases can nest deeply)


def load_txt(data: bytes, path: Path) -> Parsed:
    return Parsed(text=clean(decode(data)))


_H1 = re.compile(r"\A\s*#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def load_markdown(data: bytes, path: Path) -> Parsed:
    import frontmatter

    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, Any] = {}
    error: str | None = None
    # YAML only: a JSON handler would take a markdown file whose first line is "{".
    handler = frontmatter.YAMLHandler()
    if handler.detect(text.lstrip()):
        try:
            fm, body = handler.split(text.lstrip())
        except ValueError:  # an opening fence without a closing one: plain markdown
            fm, body = None, text
        if fm is not None:
            try:
                loaded = handler.load(fm)
            except Exception as exc:  # YAMLError, or ValueError from a constructor
                error = short_reason(exc)
                logger.warning("%s: invalid front matter, loading the body only: %s", path, error)
                text = body
            else:
                if isinstance(loaded, dict):
                    meta, text = loaded, body
                # else: "---" was a horizontal rule, not front matter; keep all the text
        text = text.lstrip("\n")

    parsed = Parsed(text=clean(text))
    lowered = {str(k).lower(): k for k in meta}
    core: dict[str, Any] = {}
    for name, keys in (
        ("title", ("title",)),
        ("date", ("date",)),
        ("author", ("author", "authors")),
        ("url", ("url",)),
    ):
        for key in keys:
            if key in lowered:
                core[name] = meta.pop(lowered[key])
                break
    parsed.title = tidy(core.get("title"))
    parsed.author = tidy(core.get("author"))
    parsed.url = tidy(core.get("url"))
    parsed.date = parse_date(core.get("date"))
    if core.get("date") is not None and parsed.date is None:
        meta["date_raw"] = str(core["date"])[:100]
    parsed.metadata = _plain_metadata(meta, path)
    if error:
        parsed.metadata["front_matter_error"] = error
    if parsed.title is None:
        m = _H1.match(parsed.text[:2000])
        if m:
            parsed.title = tidy(m.group(1))
    return parsed


class _TooBig(Exception):
    pass


def _plain_metadata(meta: dict[Any, Any], path: Path) -> dict[str, Any]:
    """JSON-safe copy of front matter; values too big or nested to copy are dropped."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        try:
            out[str(key)] = _plain(value, [_METADATA_BUDGET], 0)
        except _TooBig:
            logger.warning("%s: front matter key %r is too large; skipped", path, key)
    return out


def _plain(value: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > 20:
        raise _TooBig
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v, budget, depth + 1) for v in value]
    return str(value)[:1000]
