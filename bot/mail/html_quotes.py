"""HTML replies: quoted history found by the structure clients give it, before the HTML is flattened.

Flattening first loses what the clients tell us for free: Gmail wraps history in `div.gmail_quote`,
Apple Mail and Thunderbird in `blockquote type=cite` (Thunderbird's attribution in
`div.moz-cite-prefix`), Outlook puts a reply divider (`div#divRplyFwdMsg`, `#appendonsend`, or a
`border-top` header box on the desktop) above everything old, Yahoo, Zoho and Proton have classes
of their own. Those parts are removed from a parsed copy; what is left is flattened and read again
by `bot.mail.quotes` for whatever had no structure (an attribution in a plain `<div>`).

Works on nh3's output (balanced tags, scripts gone, only the attributes we ask for kept), so the
stdlib parser is enough and nothing here ever sees an unsafe attribute.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

import nh3

from bot.mail import quote_words as words

# Whole subtrees that are history or a signature.
_HISTORY_CLASSES = {"gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted", "zmail_extra",
                    "zmail_extra_hr", "protonmail_quote"}
_SIGNATURE_CLASSES = {"gmail_signature", "gmail_signature_prefix", "moz-signature", "protonmail_signature_block"}
_SIGNATURE_IDS = {"applemailsignature", "ms-outlook-mobile-signature", "signature"}
# Where Outlook's history begins: this node and everything after it in the document.
_DIVIDER_IDS = ("divrplyfwdmsg", "appendonsend", "stopspelling", "mail-editor-reference-message-container",
                "olk_src_body_section")
_DIVIDER_CLASSES = {"outlookmessageheader"}
# Outlook's header box: a top border in one of its two greys/blues, however the style spells it.
_OUTLOOK_HEADER_BOX = re.compile(r"border-top:[^;]*(?:#e1e1e1|#b5c4df|rgb\(\s*225,\s*225,\s*225\s*\)"
                                 r"|rgb\(\s*181,\s*196,\s*223\s*\))")
_FORWARD = re.compile("|".join(re.escape(p) for p in words.FORWARDED), re.IGNORECASE)

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_KEEP_ATTRIBUTES = {"class", "id", "style", "type", "dir"}


class _Node:
    __slots__ = ("attrs", "children", "parent", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").lower().split())

    @property
    def id(self) -> str:
        return self.attrs.get("id", "").lower()

    def text(self, limit: int = 600) -> str:
        """The first `limit` or so characters of text inside: enough to tell a forward or a header box."""
        out: list[str] = []
        size = 0
        stack: list[_Node | str] = [self]
        while stack and size < limit:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
                size += len(item)
            else:
                stack.extend(reversed(item.children))
        return " ".join(out)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.open = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.open)
        self.open.children.append(node)
        if tag not in _VOID:
            self.open = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.children.append(_Node(tag, {k: v or "" for k, v in attrs}, self.open))

    def handle_endtag(self, tag: str) -> None:
        node: _Node | None = self.open
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.open = node.parent

    def handle_data(self, data: str) -> None:
        self.open.children.append(data)


def without_history(html: str) -> str | None:
    """Sanitised HTML with the quoted history, signatures and app footers the structure shows taken out;
    None when the structure shows none (the caller then reads the flattened whole, converted once)."""
    allowed = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    allowed["*"] = set(_KEEP_ATTRIBUTES)
    builder = _TreeBuilder()
    builder.feed(nh3.clean(html, attributes=allowed, clean_content_tags={"script", "style", "title", "head"}))
    builder.close()
    divider = next((n for n in _walk(builder.root) if _is_divider(n)), None)
    if divider is not None:
        _cut_from(divider)
    if not _remove(builder.root) and divider is None:
        return None
    return _serialise(builder.root)


def _walk(node: _Node) -> list[_Node]:
    """Elements in document order."""
    found: list[_Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(reversed([c for c in item.children if isinstance(c, _Node)]))
    return found


def _is_divider(node: _Node) -> bool:
    if node.id.endswith(_DIVIDER_IDS) or node.classes & _DIVIDER_CLASSES:
        return True
    style = node.attrs.get("style", "").lower()
    return node.tag == "div" and _OUTLOOK_HEADER_BOX.search(style) is not None and ":" in node.text()


def _cut_from(node: _Node) -> None:
    """Remove `node`, everything after it, and the rule (`<hr>`) Outlook draws just above it."""
    child = node
    parent = child.parent
    while parent is not None:
        index = parent.children.index(child)
        del parent.children[index + 1:]
        child, parent = parent, parent.parent
    siblings = node.parent.children if node.parent is not None else []
    index = siblings.index(node)
    del siblings[index]
    before = [c for c in siblings[:index] if not (isinstance(c, str) and not c.strip())]
    if before and isinstance(before[-1], _Node) and before[-1].tag == "hr":
        siblings.remove(before[-1])


def _remove(root: _Node) -> bool:
    """Take out every history or signature subtree; whether there was any."""
    removed = False
    stack = [root]
    while stack:
        node = stack.pop()
        kept = [c for c in node.children if isinstance(c, str) or not _is_history(c)]
        removed = removed or len(kept) < len(node.children)
        node.children = kept
        stack.extend(c for c in kept if isinstance(c, _Node))
    return removed


def _is_history(node: _Node) -> bool:
    """A quote container (unless it holds a forward: that is the request) or a signature."""
    if node.classes & _SIGNATURE_CLASSES or node.id in _SIGNATURE_IDS:
        return True
    quote = (node.classes & _HISTORY_CLASSES or node.id.startswith("yahoo_quoted")
             or (node.tag == "blockquote" and node.attrs.get("type", "").lower() == "cite"))
    return bool(quote) and _FORWARD.search(node.text()) is None


def _serialise(root: _Node) -> str:
    """Back to HTML; iterative, so deeply nested markup cannot exhaust the stack."""
    out: list[str] = []
    stack: list[_Node | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item.tag == "#root":
            stack.extend(reversed([_text(c) if isinstance(c, str) else c for c in item.children]))
            continue
        attrs = "".join(f' {k}="{html_lib.escape(v, quote=True)}"' for k, v in item.attrs.items())
        out.append(f"<{item.tag}{attrs}>")
        if item.tag not in _VOID:
            stack.append(f"</{item.tag}>")
        stack.extend(reversed([_text(c) if isinstance(c, str) else c for c in item.children]))
    return "".join(out)


def _text(data: str) -> str:
    return html_lib.escape(data, quote=False)
