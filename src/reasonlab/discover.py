"""Find the modules of a package, so registries fill themselves ("adding one is one new file")."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_submodules(package: str, skip: tuple[str, ...] = ()) -> list[ModuleType]:
    """Import every module of `package` whose name does not start with '_' and is not in `skip`."""
    pkg = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_") and m.name not in skip]


class Registry(dict):
    """name → object, filled on first read by importing every module of `package` (minus `skip`).

    Modules register themselves into it at import time (a `register` decorator writes
    ``REGISTRY[name] = cls``); `loaded()` makes sure they all have been imported.
    """

    def __init__(self, package: str, skip: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.package, self.skip, self._imported = package, skip, False

    def loaded(self) -> Registry:
        if not self._imported:
            self._imported = True
            import_submodules(self.package, self.skip)
        return self

    def sorted(self) -> dict:
        return dict(sorted(self.loaded().items()))
