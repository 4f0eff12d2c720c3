"""tools/analysis_tools/plot_hsic.py (ReBias Fig. 4) on a tiny ReBias run
on a generated Biased MNIST."""
import csv
import json
import sys
from pathlib import Path

import cv2
import pytest

from debiascls.utils import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] /
                       'test_visualization'))
from tiny_vis_runs import REPO, config, load_tool, train  # noqa: E402


def _write_fake_mnist():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'datasets_conftest', REPO / 'tests' / 'test_datasets' / 'conftest.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_fake_mnist


@pytest.fixture(scope='module')
def rebias_run(tmp_path_factory):
    mnist = tmp_path_factory.mktemp('mnist')
    _write_fake_mnist()(mnist, 200)
    data = tmp_path_factory.mktemp('bm')
    opts = [f'data_root={data}', f'mnist_root={mnist}', 'rho=0.99',
            'train_cfg.max_iters=6', 'train_cfg.val_interval=3',
            'default_hooks.checkpoint.interval=3',
            'default_hooks.logger.interval=1',
            'classifier.backbone.channels=[4,8]',
            'biased_classifiers.0.backbone.channels=[4,8]']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.batch_size=8', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    for loop in ('test_cfg', 'val_cfg'):
        opts += [f'{loop}.extra_splits.test_biased.batch_size=8',
                 f'{loop}.extra_splits.test_biased.num_workers=0']
    work = tmp_path_factory.mktemp('rebias')
    train(config('rebias', 'biased_mnist', 'rho0.99'), work, opts)
    return work


def test_hsic_against_unbiased_accuracy(rebias_run):
    tool = load_tool('analysis_tools/plot_hsic.py')
    result = tool.main([str(rebias_run)])
    out = rebias_run / 'analysis' / 'hsic'
    assert cv2.imread(str(out.with_suffix('.png'))).shape == (400, 650, 3)
    # HSIC as logged at every step (logger interval 1)
    logged = {}
    for line in next(rebias_run.glob('*/vis_data/scalars.json')).open():
        record = json.loads(line)
        if 'hsic/g' in record:
            logged[record['step']] = record['hsic/g']
    assert sorted(logged) == list(range(1, 7))
    assert [(p['iter'], p['value']) for p in result['hsic']['g']] == \
        sorted(logged.items())
    # the test split's unbiased accuracy at the evaluations (iterations 3, 6)
    evaluated = {}
    for line in (rebias_run / 'results.jsonl').open():
        record = json.loads(line)
        if record['split'] == 'test':
            evaluated[record['iter']] = record['metrics']['unbiased_acc']
    assert [(p['iter'], p['value']) for p in result['accuracy']] == \
        sorted(evaluated.items()) and len(evaluated) == 2
    with open(out.with_suffix('.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [int(r['iter']) for r in rows] == list(range(1, 7))
    assert float(rows[2]['test/unbiased_acc']) == evaluated[3]
    assert rows[0]['test/unbiased_acc'] == ''
    # f's other metrics and G's are reachable; unknown ones are named
    result = tool.main([str(rebias_run), '--split', 'test_biased',
                        '--metric', 'g/acc', '--out',
                        str(rebias_run / 'g.png')])
    assert result['accuracy_key'] == 'test_biased/g/acc'
    with pytest.raises(ConfigError, match='test_biased'):
        tool.main([str(rebias_run), '--split', 'nope'])
