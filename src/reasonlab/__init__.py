"""reasonlab: make language models reason better, and prove it with measurements."""

from .cache import Cache
from .context import Call, RunContext, Usage
from .models import GenParams, Model, ModelError, load_model
from .strategies import Strategy, get_strategy, list_strategies, register
from .problem import Prediction, Problem, Result
from .api import preview, run

__version__ = "0.1.0"
__all__ = ["Cache", "Call", "RunContext", "Usage", "GenParams", "Model", "ModelError", "load_model",
           "Strategy", "get_strategy", "list_strategies", "register", "Prediction", "Problem", "Result",
           "preview", "run", "__version__"]
