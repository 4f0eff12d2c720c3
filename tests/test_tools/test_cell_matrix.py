"""tools/analysis_tools/cell_matrix.py on hand-written results files."""
import json
from pathlib import Path

import pytest

from debiascls.utils import ConfigError
from tool_helpers import load_tool


def _tool():
    return load_tool('analysis_tools/cell_matrix.py', 'cell_matrix')


def _run(path: Path, evals):
    """``evals``: ``[(iter, valid conflicting_acc, test cell_acc)]``."""
    path.mkdir()
    with open(path / 'results.jsonl', 'w') as f:
        for it, valid, cells in evals:
            for split, metrics, tables in (
                    ('valid', dict(conflicting_acc=valid), None),
                    ('test', dict(conflicting_acc=0.0),
                     dict(cell_acc=cells, cell_count=[[1, 1], [1, 1]]))):
                f.write(json.dumps(dict(mode='val', split=split, iter=it,
                                        metrics=metrics, tables=tables,
                                        eval_splits=['valid', 'test'])) + '\n')
    return str(path)


def test_the_selected_matrices_averaged_over_runs(tmp_path, capsys):
    tool = _tool()
    a = _run(tmp_path / 'a', [(1, 10.0, [[100, 0], [20, 90]]),
                              (2, 30.0, [[90, 40], [None, 80]])])
    b = _run(tmp_path / 'b', [(1, 50.0, [[80, 20], [60, 100]]),
                              (2, 5.0, [[0, 0], [0, 0]])])
    # best valid: a at 2, b at 1
    assert tool.selected_matrix(a, 'best-valid-conflicting_acc',
                                'test')[0] == 2
    assert tool.main([a, b]) == 0
    out = capsys.readouterr().out
    # (90 + 80) / 2, (40 + 20) / 2; (-, 60) -> 60; (80 + 100) / 2
    assert '| 0 | 85.0 | 30.0 |' in out and '| 1 | 60.0 | 90.0 |' in out
    assert 'aligned cells 87.50, of the conflicting cells 45.00' in out
    assert 'iterations [2, 1]' in out
    assert tool.summary([[None, 1.0], [3.0, None]]) == dict(
        aligned=None, conflicting=2.0)


def test_a_run_without_tables_is_named(tmp_path):
    tool = _tool()
    path = tmp_path / 'r'
    path.mkdir()
    (path / 'results.jsonl').write_text(json.dumps(dict(
        mode='val', split='test', iter=1, metrics=dict(acc=1.0))) + '\n')
    with pytest.raises(ConfigError, match='no per-cell table of split "test"'
                       ' at iteration 1'):
        tool.selected_matrix(str(path), 'last', 'test')
    with pytest.raises(ConfigError, match='no results.jsonl'):
        tool.selected_matrix(str(tmp_path / 'missing'), 'last', 'test')
