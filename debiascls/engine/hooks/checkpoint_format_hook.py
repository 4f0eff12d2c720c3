"""Keep checkpoints loadable with ``torch.load(weights_only=True)``."""
from mmengine.hooks import Hook

from debiascls.engine.checkpoint import sanitize_checkpoint
from debiascls.registry import HOOKS


@HOOKS.register_module()
class CheckpointFormatHook(Hook):
    """Normalise what a checkpoint holds before it is written, so that it
    loads without unsafe globals (see :mod:`debiascls.engine.checkpoint`),
    and record the iteration of a loaded checkpoint for ``results.jsonl``.

    It runs after every other hook has added its state to the checkpoint.
    (Loading needs no hook: the safe loader registered by
    :mod:`debiascls.engine.checkpoint` restores the normalised parts.)
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        sanitize_checkpoint(checkpoint)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        runner.message_hub.update_info('checkpoint_iter', meta.get('iter'))
