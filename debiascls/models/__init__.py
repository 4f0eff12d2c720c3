from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .data_preprocessor import BiasDataPreprocessor  # noqa: F401
from .heads import *  # noqa: F401,F403
