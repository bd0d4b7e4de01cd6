"""Find what registries hold: the modules of a package ("adding one is one new file") and plugins.

Plugins are other installed packages that declare entry points in one of `PLUGIN_GROUPS`
(see docs/plugins.md). Each group is loaded once, on first use; a plugin that fails to load is
reported in one line on stderr and skipped, never a crash.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import sys
import threading
from types import ModuleType
from typing import Any

PLUGIN_GROUPS = ("reasonlab.strategies", "reasonlab.models", "reasonlab.datasets", "reasonlab.tools")

_plugins: dict[str, dict[str, Any]] = {}  # group → entry-point name → loaded object
_problems: list[str] = []  # one line per plugin that was skipped
_origins: dict[tuple[str, str], str] = {}  # (group, name) → "distribution version (module:attr)"
_lock = threading.RLock()


def import_submodules(package: str, skip: tuple[str, ...] = ()) -> list[ModuleType]:
    """Import every module of `package` whose name does not start with '_' and is not in `skip`."""
    pkg = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_") and m.name not in skip]


def report_plugin_problem(line: str) -> None:
    """Tell the user (one line on stderr, once) that a plugin was skipped and why."""
    line = " ".join(line.split())
    with _lock:
        if line in _problems:
            return
        _problems.append(line)
    print(f"reasonlab: {line}", file=sys.stderr)


def load_plugins(group: str) -> dict[str, Any]:
    """name → object of every entry point in `group` that loads; loaded once per process."""
    with _lock:
        if group in _plugins:
            return _plugins[group]
        found: dict[str, Any] = {}
        _plugins[group] = found  # a plugin that reads its own registry while loading sees no recursion
        try:
            eps = importlib.metadata.entry_points(group=group)
        except Exception as e:  # noqa: BLE001 - broken metadata of some installed package
            report_plugin_problem(f"cannot read the entry points of {group}: {type(e).__name__}: {e}")
            return found
        for ep in sorted(eps, key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            origin = f"{dist.name} {dist.version}" if dist is not None else "?"
            try:
                found[ep.name] = ep.load()
            except BaseException as e:  # noqa: BLE001 - a broken plugin must not stop reasonlab
                if isinstance(e, KeyboardInterrupt):
                    raise
                report_plugin_problem(f"plugin {ep.name!r} ({group} = {ep.value}, from {origin}) skipped: "
                                      f"{type(e).__name__}: {e}")
                continue
            _origins[(group, ep.name)] = f"{origin} ({ep.value})"
        return found


def plugin_report() -> dict[str, Any]:
    """Every plugin group with what loaded (and from where), and the lines of skipped plugins."""
    groups = {g: {name: _origins.get((g, name), "?") for name in load_plugins(g)} for g in PLUGIN_GROUPS}
    return {"groups": groups, "problems": list(_problems)}


class Registry(dict):
    """name → object, filled on first read by importing every module of `package` (minus `skip`),
    then the plugins of entry-point `group`.

    Modules register themselves into it at import time (a `register` decorator writes
    ``REGISTRY[name] = cls``); `loaded()` makes sure they all have been imported. A plugin's entry
    point names a module (registering itself on import) or an object of type `kind` whose `key`
    attribute is its name. A plugin cannot replace a built-in entry: it is skipped with a report.
    """

    def __init__(self, package: str, skip: tuple[str, ...] = (), *, group: str | None = None,
                 kind: type | None = None, key: str = "name") -> None:
        super().__init__()
        self.package, self.skip, self._imported, self._loading = package, skip, False, False
        self.group, self.kind, self.key = group, kind, key

    def loaded(self) -> Registry:
        """The registry with every module imported; a thread arriving while another imports waits
        for it (a re-entrant call from inside the imports gets the registry as it is so far)."""
        if self._imported:
            return self
        with _lock:
            if not self._imported and not self._loading:
                self._loading = True
                try:
                    import_submodules(self.package, self.skip)
                    if self.group:
                        self._add_plugins()
                finally:
                    self._imported, self._loading = True, False
        return self

    def sorted(self) -> dict:
        return dict(sorted(self.loaded().items()))

    def _add_plugins(self) -> None:
        builtins = dict(self)
        for ep_name, obj in load_plugins(self.group or "").items():
            where = f"plugin {ep_name!r} ({self.group})"
            if isinstance(obj, ModuleType):
                continue  # it registered what it holds when imported
            if self.kind is not None and not (isinstance(obj, type) and issubclass(obj, self.kind)):
                report_plugin_problem(f"{where} skipped: {obj!r} is not a {self.kind.__name__} subclass")
                continue
            name = getattr(obj, self.key, "") or ep_name
            if self.get(name) is not obj:
                self[name] = obj
        for name, obj in builtins.items():  # a plugin that overwrote a built-in: put the built-in back
            if self.get(name) is not obj:
                report_plugin_problem(f"a plugin tried to replace the built-in {name!r} ({self.group}); "
                                      "kept the built-in")
                self[name] = obj
