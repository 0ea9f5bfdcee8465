"""Every URL pattern of the project, read from the URL configuration itself: the same walk
Django's resolver makes, so a route added anywhere (an app's urls.py, a router, an admin
registration) is here without anyone listing it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.regex_helper import normalize

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Route:
    """One URL pattern: `path` is how people write it (`/clinic/patients/<pk>/`), `route` is
    Django's own string for it (what `resolve(url).route` answers), `name` its namespaced name."""

    path: str
    route: str
    name: str
    params: tuple[str, ...]
    _template: str

    def url(self, values: dict[str, object]) -> str:
        """The URL with each parameter filled; it must resolve to this very pattern (a value
        that another, earlier pattern catches would test the wrong view)."""
        missing = set(self.params) - set(values)
        if missing:
            raise KeyError(f"{self.path}: no value for {', '.join(sorted(missing))}")
        url = "/" + self._template % {name: str(values[name]) for name in self.params}
        match = resolve(url.split("?", 1)[0])
        if match.route != self.route:
            raise AssertionError(
                f"{url} was meant for {self.path} but resolves to /{match.route}: "
                "choose a value only this pattern accepts"
            )
        return url

    @property
    def segments(self) -> list[str]:
        return [part for part in self.path.split("/") if part]


def _join(first: str, second: str) -> str:
    """Django's own joining of route strings (URLResolver._join_route): what
    `resolve(url).route` answers."""
    return first + second.removeprefix("^") if first else second


def _walk(resolver: URLResolver, prefix: str, regex: str, namespace: str):
    for pattern in resolver.url_patterns:
        text = _join(prefix, str(pattern.pattern))
        part = pattern.pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern, text, regex + part, inner)
        elif isinstance(pattern, URLPattern):
            yield text, regex + part, f"{namespace}{pattern.name or ''}"


def all_routes(urlconf: str | None = None) -> list[Route]:
    """Every pattern reachable from the root URL configuration, in resolution order."""
    routes = []
    for route, regex, name in _walk(get_resolver(urlconf), "", "", ""):
        # normalize() is what reverse() uses: the first way of writing the pattern, with
        # %(name)s for each group. Optional parts (a trailing `/?`) are left out.
        template, params = normalize(regex)[0]
        path = "/" + _PLACEHOLDER.sub(r"<\1>", template).replace("%%", "%")
        routes.append(
            Route(path=path, route=route, name=name, params=tuple(params), _template=template)
        )
    return routes
