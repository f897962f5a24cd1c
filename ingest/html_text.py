"""HTML -> markdown: the page's main text with headings, without navigation, cookie banners,
bylines and page footers, and a title from <title> or the first <h1>."""

from __future__ import annotations

import re
from typing import Any

from ingest.extracted import Extracted, ReadError, check_text_size

_DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "nav", "aside", "form",
              "button", "dialog", "footer", "address", "select"]
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
               "alertdialog", "menu", "menubar"}
# class or id words that mark page furniture rather than the document
_FURNITURE = re.compile(
    r"(^|[-_])(cookies?|consent|gdpr|byline|author|breadcrumbs?|share|sharing|social|newsletter|"
    r"subscribe|sidebar|related|advert|ads?|promo|nav|navbar|menu|footer|masthead|skip|toolbar|"
    r"pagination|dateline|meta)([-_]|$)", re.I)
# short lines that are about the page, not the text: "By …", "Published 3 May", "© … Privacy"
_BYLINE = re.compile(r"^(by|posted by|written by|published|updated|last updated)\b", re.I)
_LEGAL = re.compile(r"©|\bcopyright\b|cookie|privacy policy|terms of use|all rights reserved", re.I)
_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre", "blockquote", "dd", "dt"]
_TITLE_SPLIT = re.compile(r"\s+[|–—·:-]\s+")


def _furniture(tag: Any) -> bool:
    if tag.attrs is None or tag.name in ("html", "body", "main", "article"):
        return False  # theme classes on these ("has-sidebar") say nothing about their text
    if str(tag.get("role", "")).lower() in _DROP_ROLES or tag.get("aria-hidden") == "true":
        return True
    words = list(tag.get("class") or []) + [str(tag.get("id") or "")]
    return any(_FURNITURE.search(w) for w in words if w)


def _strip_furniture(soup: Any) -> None:
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all("header"):
        if not tag.find_parent(["main", "article"]):  # a page header, not an article's own
            tag.decompose()
    for tag in [t for t in soup.find_all(True) if _furniture(t)]:
        if not tag.decomposed:
            tag.decompose()


def _content_root(soup: Any) -> Any:
    """Return <main>, else the single <article>, else the body: where the text lives."""
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    return articles[0] if len(articles) == 1 else (soup.body or soup)


def _prefix(el: Any) -> str:
    if el.name in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return "#" * int(el.name[1]) + " "
    parent = el.parent
    if el.name == "li" and parent is not None and parent.name == "ol":
        siblings = [li for li in parent.find_all("li", recursive=False)]
        start = int(parent.get("start", 1)) if str(parent.get("start", "1")).isdigit() else 1
        return f"{start + siblings.index(el)}. "
    return "- " if el.name == "li" else ""


def _paragraphs(root: Any) -> list[str]:
    parts: list[str] = []
    for el in root.find_all(_BLOCKS):
        if el.find(["p", "li"]):  # the inner element carries the text
            continue
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text or (len(text) <= 200 and (_BYLINE.match(text) or _LEGAL.search(text))):
            continue
        parts.append(_prefix(el) + text)
    return parts


def page_title(soup: Any, h1: str) -> str:
    """Return the page's title: the part of <title> that is the <h1>, else <title>, else <h1>."""
    full = " ".join(soup.title.get_text(" ", strip=True).split()) if soup.title else ""
    parts = _TITLE_SPLIT.split(full) if full else []
    if h1 and (h1 == full or h1 in parts):
        return h1
    if len(parts) > 1:  # "Page name | Site name": the longest part names the page
        return max(parts, key=len)
    return full or h1


def read_html(text: str, max_chars: int) -> Extracted:
    """Return a web page's main text as markdown and its title."""
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(text, "html.parser")
    except Exception as exc:  # the parser gives up on some broken markup
        raise ReadError(f"unreadable HTML ({type(exc).__name__}: {exc})") from exc
    first_h1 = soup.find("h1")
    h1 = " ".join(first_h1.get_text(" ", strip=True).split()) if first_h1 else ""
    title = page_title(soup, h1)
    _strip_furniture(soup)
    parts = _paragraphs(_content_root(soup))
    check_text_size(sum(len(p) for p in parts), max_chars)
    return Extracted(text="\n\n".join(parts) + "\n", title=title, fmt="md")
