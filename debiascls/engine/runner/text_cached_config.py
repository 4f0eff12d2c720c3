"""A ``Config`` that formats its text once per content."""
import copy
from typing import Any, Dict, Optional, Tuple

from mmengine.config import Config


class TextCachedConfig(Config):
    """``Config`` whose ``pretty_text`` is formatted once per content.

    mmengine formats the whole config with yapf for the log, the dumped
    config and the ``meta`` of *every* checkpoint (about 0.5 s for a
    two-model config, i.e. a third of a short test run). The text is
    cached with a snapshot of the contents it was made from and made again
    whenever the contents differ, so a changed config never gets a stale
    text.
    """

    @property
    def pretty_text(self) -> str:
        contents = self._cfg_dict.to_dict()
        cached: Optional[Tuple[Dict[str, Any], str]] = self.__dict__.get(
            '_text_cache')
        if cached is not None and cached[0] == contents:
            return cached[1]
        text = super().pretty_text
        object.__setattr__(self, '_text_cache',
                           (copy.deepcopy(contents), text))
        return text

    @classmethod
    def wrap(cls, cfg: Config) -> 'TextCachedConfig':
        """The same config (shared contents) as a ``TextCachedConfig``."""
        if isinstance(cfg, cls):
            return cfg
        wrapped = cls.__new__(cls)
        wrapped.__setstate__(cfg.__getstate__())
        return wrapped
