"""Components whose wording follows the interface language.

Each component is registered where it is built, with the function that returns its update for
a language; the language switch applies them all, so a new label cannot be forgotten there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from assistant.ui.strings import t

C = TypeVar("C")


class Wording:
    """A list of (component, update for a language) pairs."""

    def __init__(self) -> None:
        self._items: list[tuple[Any, Callable[[str], Any]]] = []

    def add(self, component: C, update: Callable[[str], Any]) -> C:
        """Register a component with its update; return the component."""
        self._items.append((component, update))
        return component

    def label(self, component: C, key: str, placeholder: str | None = None) -> C:
        """Register a component whose label (and placeholder) are UI strings."""
        import gradio as gr

        def update(lang: str) -> Any:
            if placeholder is None:
                return gr.update(label=t(lang, key))
            return gr.update(label=t(lang, key), placeholder=t(lang, placeholder))

        return self.add(component, update)

    def label_from(self, component: C, wording: Callable[[str], str]) -> C:
        """Register a component whose label is worded by a function of the language."""
        import gradio as gr

        return self.add(component, lambda lang: gr.update(label=wording(lang)))

    def value(self, component: C, key: str, template: str = "{}") -> C:
        """Register a component whose value is a UI string (a button, a heading)."""
        return self.add(component, lambda lang: template.format(t(lang, key)))

    @property
    def components(self) -> list[Any]:
        return [component for component, _ in self._items]

    def updates(self, lang: str) -> list[Any]:
        """Return every registered component's update for a language, in registration order."""
        return [update(lang) for _, update in self._items]
