"""An HTML document as a tree, parsed with the standard library, strictly: every element must be closed in order.

Enough to check a page's DOM contract (ids, classes, attributes, text) without a browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        """The text of the element and its descendants, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            elif child.tag == "br":
                yield "\n"
            else:
                yield from child._texts()

    def iter(self, tag: str | None = None, cls: str | None = None) -> Iterator[Element]:
        """Every descendant (depth first, in document order) with that tag and class."""
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    yield child
                yield from child.iter(tag, cls)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return list(self.iter(tag, cls))

    def one(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.all(tag, cls)
        assert len(found) == 1, f"expected one <{tag or '*'} class={cls}>, found {len(found)}"
        return found[0]

    def by_id(self, element_id: str) -> Element:
        found = [element for element in self.iter() if element.attrs.get("id") == element_id]
        assert len(found) == 1, f"expected one element with id {element_id!r}, found {len(found)}"
        return found[0]

    def elements(self) -> list[Element]:
        return [child for child in self.children if isinstance(child, Element)]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"<{tag}> repeats an attribute: {names}"
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        open_tag = self.stack[-1].tag
        assert open_tag == tag, f"</{tag}> closes <{open_tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    """The document's root (``#document``); fails on a misnested or unclosed element."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], f"unclosed: {[element.tag for element in builder.stack[1:]]}"
    assert builder.doctype is not None and builder.doctype.lower() == "doctype html"
    return builder.root
