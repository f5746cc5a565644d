"""HTML: the main text by trafilatura (all visible text as a fallback), metadata from
meta tags."""

from __future__ import annotations

import logging
from pathlib import Path

from askfront.corpus.base import Parsed, clean, decode, parse_date, tidy

logger = logging.getLogger(__name__)


def load_html(data: bytes, path: Path) -> Parsed:
    from bs4.dammit import EncodingDetector

    declared = EncodingDetector.find_declared_encoding(data[:4096], is_html=True)
    html = decode(data, declared)
    text = _html_main_text(html, path) or _html_all_text(html)
    parsed = Parsed(text=clean(text))
    _html_meta(html, parsed)
    return parsed


def _html_main_text(html: str, path: Path) -> str:
    import trafilatura

    try:
        return trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    except RecursionError:
        logger.info("%s: too deeply nested for trafilatura; using all visible text", path)
    except Exception:  # lxml/trafilatura raise assorted errors on malformed markup
        logger.info("%s: trafilatura failed; using all visible text", path, exc_info=True)
    return ""


def _html_all_text(html: str) -> str:
    """Visible text of the whole page, one line per block (the fallback extractor)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _html_meta(html: str, parsed: Parsed) -> None:
    from bs4 import BeautifulSoup, SoupStrainer, Tag

    head = BeautifulSoup(html, "lxml", parse_only=SoupStrainer(["title", "meta", "link"]))
    meta: dict[str, str] = {}
    for tag in head.find_all("meta"):
        if not isinstance(tag, Tag):
            continue
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        content = tag.get("content")
        if isinstance(key, str) and isinstance(content, str) and content.strip():
            meta.setdefault(key.strip().lower(), content.strip())
    canonical = None
    for link in head.find_all("link"):
        rel = link.get("rel") if isinstance(link, Tag) else None
        rels = rel if isinstance(rel, list) else [rel]
        href = link.get("href") if isinstance(link, Tag) else None
        if "canonical" in rels and isinstance(href, str) and href.strip():
            canonical = href.strip()
            break
    title_tag = head.find("title")

    def first(*keys: str) -> str | None:
        return next((meta[k] for k in keys if k in meta), None)

    parsed.title = tidy(
        first("og:title", "twitter:title")
        or (title_tag.get_text() if title_tag is not None else None)
    )
    parsed.author = tidy(first("author", "article:author", "dc.creator", "dcterms.creator"))
    parsed.url = tidy(first("og:url") or canonical)
    for key in (
        "article:published_time",
        "og:published_time",
        "date",
        "pubdate",
        "publishdate",
        "datepublished",
        "dc.date",
        "dcterms.date",
        "dcterms.created",
    ):
        parsed.date = parse_date(meta.get(key))
        if parsed.date:
            break
