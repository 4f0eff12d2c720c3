"""Per-sample EMA score updates after every iteration (IE's BN score)."""
from mmengine.hooks import Hook

from debiascls.registry import HOOKS
from debiascls.utils.wrappers import unwrap


@HOOKS.register_module()
class PerSampleScoreHook(Hook):
    """After every training iteration, calls
    ``algorithm.update_per_sample_scores(iteration)``, which updates the
    per-sample EMA scores derived from that iteration's losses (IE: the loss
    EMA of Eq. 1, the reference loss from T1 on and the BN score of Eq. 2,
    from f_b's losses of every rank), then logs
    ``algorithm.per_sample_summary()`` (IE: |D^BN|, |D_cand^BN|, the mean BN
    score, |D^A|) as ``train/<name>`` scalars, which the logger writes to the
    log and TensorBoard every log interval.

    It runs before the checkpoint hook, so a checkpoint saved at iteration
    ``t`` holds the scores updated with ``t``'s batch.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        if not hasattr(algorithm, 'update_per_sample_scores'):
            raise TypeError(f'PerSampleScoreHook: {type(algorithm).__name__}'
                            ' keeps no per-sample scores; remove the hook.')
        algorithm.attach_hook('PerSampleScoreHook')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        algorithm = unwrap(runner.model)
        algorithm.update_per_sample_scores(runner.iter)
        for name, value in algorithm.per_sample_summary().items():
            runner.message_hub.update_scalar(f'train/{name}', value)
