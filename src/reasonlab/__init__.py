"""reasonlab: make language models reason better, and prove it with measurements."""

from .api import preview, run
from .cache import Cache
from .context import BudgetExceeded, Call, Cancelled, RunContext, Usage
from .errors import InputError, ReasonlabError
from .models import (
    Completion,
    GenParams,
    Model,
    ModelError,
    ModelInfo,
    ModelSpecError,
    NotSupported,
    load_model,
)
from .problem import Prediction, Problem, Result
from .strategies import Options, Strategy, get_strategy, list_strategies, opt, register
from .strategies.base import StrategyError

__version__ = "0.1.0"
__all__ = ["Cache", "Call", "RunContext", "Usage", "GenParams", "Model", "ModelError", "load_model",
           "Strategy", "get_strategy", "list_strategies", "register", "Prediction", "Problem", "Result",
           "preview", "run", "__version__",
           # the plugin API (docs/plugins.md); Dataset, Item, register_dataset and tool load on first use
           "Completion", "ModelInfo", "Options", "opt", "Dataset", "Item", "register_dataset", "tool",
           # errors (every user-facing one derives from ReasonlabError; InputError means bad input)
           "ReasonlabError", "InputError", "StrategyError", "ModelError", "ModelSpecError", "NotSupported",
           "BudgetExceeded", "Cancelled", "SandboxError", "ToolError"]

_LAZY = {"Dataset": ("eval.datasets", "Dataset"), "Item": ("eval.datasets", "Item"),
         "register_dataset": ("eval.datasets", "register"), "tool": ("tools", "tool"),
         "SandboxError": ("sandbox.execution", "SandboxError"), "ToolError": ("tools.registry", "ToolError")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'reasonlab' has no attribute {name!r}")
