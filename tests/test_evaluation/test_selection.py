"""Model-selection rules on hand-made results."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from debiascls.evaluation.selection import SelectionError, select

REPO = Path(__file__).resolve().parents[2]


def _rec(it, split, **metrics):
    return dict(mode='val', iter=it, split=split, metrics=metrics)


RECORDS = [
    _rec(100, 'valid', acc=90.0, conflicting_acc=10.0),
    _rec(100, 'test', acc=50.0),
    _rec(200, 'valid', acc=95.0, conflicting_acc=30.0),
    _rec(200, 'test', acc=40.0),
    _rec(300, 'valid', acc=97.0, conflicting_acc=30.0),
    _rec(300, 'test', acc=45.0),
    dict(mode='test', iter=None, split='test', metrics=dict(acc=1.0)),
]


def test_rules_pick_the_expected_iteration():
    assert select(RECORDS, 'last')['iter'] == 300
    # Ties go to the earliest evaluation.
    best = select(RECORDS, 'best-valid-conflicting_acc')
    assert best['iter'] == 200 and not best['oracle']
    assert best['splits']['test'] == {'acc': 40.0}
    oracle = select(RECORDS, 'oracle-test-acc')
    assert oracle['iter'] == 100 and oracle['oracle']
    assert 'test set' in oracle['note']
    assert select(RECORDS, 'best-test-acc')['oracle']


def test_a_resumed_run_replaces_repeated_evaluations():
    records = RECORDS + [_rec(300, 'valid', acc=1.0, conflicting_acc=99.0)]
    assert select(records, 'best-valid-conflicting_acc')['iter'] == 300


def test_bad_rules_and_missing_metrics_are_named():
    with pytest.raises(SelectionError, match='Unknown selection rule'):
        select(RECORDS, 'best')
    with pytest.raises(SelectionError, match='valid-conflicting_acc'):
        select(RECORDS, 'best-valid-worst_group_acc')
    with pytest.raises(SelectionError, match='No validation records'):
        select(RECORDS[-1:], 'last')


def test_cli_prints_the_table(tmp_path):
    with open(tmp_path / 'results.jsonl', 'w') as f:
        for record in RECORDS:
            f.write(json.dumps(record) + '\n')
    out = subprocess.run(
        [sys.executable, str(REPO / 'tools/analysis_tools/select_model.py'),
         str(tmp_path), '--rule', 'best-valid-conflicting_acc',
         'oracle-test-acc', '--metrics', 'acc'],
        capture_output=True, text=True, check=True).stdout
    rows = [[c.strip() for c in line.split('|')] for line in out.splitlines()
            if '|' in line]
    assert ['best-valid-conflicting_acc', '200', 'test', '40.00'] in rows
    assert ['oracle-test-acc (oracle)', '100', 'test', '50.00'] in rows
    assert '(oracle: selected on the test set' in out
