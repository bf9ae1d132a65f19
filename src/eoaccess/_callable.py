"""Modules that can be called as their main function.

The public API has ``eoaccess.subset(...)``, ``eoaccess.timeseries(...)`` and
``eoaccess.stats(...)`` (PRODUCT.md), and those names are also the modules that define them.
Importing a submodule sets the parent package's attribute to the module, so a plain function
export would be shadowed as soon as anything imports it; a callable module works either way.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_module_callable(name: str, function: Callable[..., Any]) -> None:
    """Let the module ``name`` be called like ``function`` (same arguments and result)."""

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

    _CallableModule.__call__.__doc__ = function.__doc__
    sys.modules[name].__class__ = _CallableModule
