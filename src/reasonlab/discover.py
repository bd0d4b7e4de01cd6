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
