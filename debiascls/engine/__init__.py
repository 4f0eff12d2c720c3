"""Training machinery: safe checkpoints, loops, hooks, wrappers, optimizers.

Importing it registers the weights-only checkpoint loader and the atomic
local file backend with mmengine.
"""
from . import checkpoint, fileio  # noqa: F401 (registration side effects)
from .hooks import *  # noqa: F401,F403
from .model_wrappers import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403
