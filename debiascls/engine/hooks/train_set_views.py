"""The training set as a hook that scores samples may need it: through the
config's ``test_pipeline`` (no augmentation) instead of its own."""
import copy

from debiascls.registry import DATASETS


def train_set_with_test_pipeline(runner, who: str):
    """A copy of the runner's training set built with ``cfg.test_pipeline``
    (same samples, same order), for scoring raw images.

    Args:
        runner: The runner.
        who: The caller's name, for the error messages.
    """
    dataset = runner.train_dataloader.dataset
    pipeline = runner.cfg.get('test_pipeline')
    if not pipeline:
        raise KeyError(
            f'{who}: scoring the raw training images needs the config\'s '
            'top-level test_pipeline, which this config lacks; add one or '
            'score through the training pipeline ("train").')
    cfg = copy.deepcopy(runner.cfg.train_dataloader.dataset)
    cfg['pipeline'] = copy.deepcopy(pipeline)
    scoring = DATASETS.build(cfg)
    if len(scoring) != len(dataset):
        raise RuntimeError(
            f'{who}: the training set rebuilt with the test pipeline has '
            f'{len(scoring)} samples, not {len(dataset)}; score through the '
            'training pipeline ("train").')
    return scoring
