"""HTML (and Confluence storage format) to the text a person reads.

Markup must not split a token: inline elements are joined with nothing in
between, block elements become line breaks, ``<pre>``/``<code>`` and CDATA
(Confluence code macros) are kept verbatim, entities are decoded.
"""

from __future__ import annotations

import html
import re

_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "frameset",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "noscript",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "title",
        "tr",
        "ul",
        "ac:structured-macro",
        "ac:macro",
        "ac:parameter",
        "ac:plain-text-body",
        "ac:rich-text-body",
        "ac:task",
        "ac:task-list",
        "ac:task-body",
        "ac:layout",
        "ac:layout-section",
        "ac:layout-cell",
        "ac:adf-node",
        "ac:adf-content",
        "ac:adf-extension",
    ]
)
# Adjacent cells are separate values: a tab between them keeps a row on one line.
_CELL = frozenset({"td", "th"})
_VERBATIM = frozenset({"pre", "code", "textarea", "listing", "xmp", "plaintext", "ac:plain-text-body"})
_LINE_TAGS = frozenset({"br", "hr"})

_BLOCK_FLAG, _LINE_FLAG, _CELL_FLAG, _VERBATIM_FLAG = 1, 2, 4, 8
_KIND: dict[str, int] = {}
for _name in _BLOCK:
    _KIND[_name] = _BLOCK_FLAG | (_LINE_FLAG if _name in _LINE_TAGS else 0)
for _name in _CELL:
    _KIND[_name] = _CELL_FLAG
for _name in _VERBATIM:
    _KIND[_name] = _KIND.get(_name, 0) | _VERBATIM_FLAG
del _name

_ATTRS = r"(?:[^>\"'<]|\"[^\"]*\"|'[^']*')*"
# Dropped first: what never shows in the page (script and style bodies, the
# window title, comments, declarations). Only run when the markup has any.
_HIDDEN = re.compile(
    rf"<(?P<raw>script|style|template)(?![\w:.-]){_ATTRS}>.*?(?:</(?P=raw)\s*>|\Z)"
    r"|<title\b[^>]*>[^<]{0,4096}</title\s*>|<!--.*?(?:-->|\Z)|<[!?][^>\[]*>",
    re.DOTALL | re.IGNORECASE,
)
# Then every tag and CDATA section. A tag may not contain a bare "<", so an
# unclosed one fails at the next tag instead of scanning on to the end.
_TOKEN = re.compile(
    r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)"
    rf"|<(/?)([A-Za-z][\w:.-]*)({_ATTRS})>",
    re.DOTALL,
)
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
# Link targets that could carry a credential (query string or user info).
_LINK = re.compile(r"(?:href|ri:value)\s*=\s*(?:\"([^\"]*[?@][^\"]*)\"|'([^']*[?@][^']*)')")


def _ends(out: list[str]) -> str:
    """The last character of the output so far ("" when empty)."""
    for piece in reversed(out):
        if piece:
            return piece[-1]
    return ""


def html_to_text(markup: str) -> str:
    """The readable text of ``markup``.

    Link targets with a query string or user info (where a credential can
    hide) are appended at the end, one per line, unless already in the text.
    """
    links = [a or b for a, b in _LINK.findall(markup)] if ("?" in markup or "@" in markup) else []
    if "<!--" in markup or "<s" in markup or "<S" in markup or "<t" in markup or "<!" in markup or "<?" in markup:
        markup = _HIDDEN.sub("", markup)
    parts = _TOKEN.split(markup)
    out: list[str] = []
    append = out.append
    collapse = _WHITESPACE.sub
    unescape = html.unescape
    kinds = _KIND
    last = ""  # the last character written ("" before anything)
    verbatim = 0
    # split() yields: text, then the four groups of a token, text, ...
    for data, cdata, close, name, attrs in zip(parts[0::5], parts[1::5], parts[2::5], parts[3::5], parts[4::5]):
        if data:
            if "&" in data:
                data = unescape(data)
            if not verbatim:
                if "  " in data or "\n" in data or "\t" in data or "\r" in data:
                    data = collapse(" ", data)
                if data[0] == " " and last in ("", "\n", " "):
                    data = data[1:]
            if data:
                append(data)
                last = data[-1]
        if name is None:
            if cdata:
                append(cdata)
                last = cdata[-1]
            continue
        kind = kinds.get(name)
        if kind is None:
            if name.islower():
                continue  # an inline element: its text joins its neighbours
            kind = kinds.get(name.lower())
            if kind is None:
                continue
        if kind & _BLOCK_FLAG:
            if last == " ":
                out[-1] = out[-1].rstrip(" ")
                last = _ends(out)
            if kind & _LINE_FLAG:
                # <br> is always a line of its own, even an empty one.
                if not close:
                    append("\n")
                    last = "\n"
            elif last not in ("", "\n"):
                append("\n")
                last = "\n"
        elif kind & _CELL_FLAG and not close and last not in ("", "\n"):
            append("\t")
            last = "\t"
        if kind & _VERBATIM_FLAG and not attrs.endswith("/"):
            verbatim = max(0, verbatim - 1) if close else verbatim + 1
    data = parts[-1]
    if data:
        if "&" in data:
            data = unescape(data)
        append(data if verbatim else collapse(" ", data))
    text = "".join(out).strip(" \n")
    if links:
        extra = [unescape(u) for u in dict.fromkeys(links)]
        extra = [u for u in extra if u not in text and not u.startswith("mailto:")]
        if extra:
            text = text + "\n" + "\n".join(extra)
    return text
