"""tools/analysis_tools/collect_results.py on hand-made results.jsonl files
whose means, standard deviations and standard errors are worked out by
hand below."""
import csv
import io
import json
import math
import subprocess
import sys

import pytest

from debiascls.evaluation.results_table import (ORACLE_LABEL, ResultsError,
                                                build_table, load_runs,
                                                parse_config_name)
from tool_helpers import REPO, load_tool

collect = load_tool('analysis_tools/collect_results.py', 'collect_results')

# (config, seed) -> {iter: (valid conflicting_acc, test conflicting_acc,
# test acc)}
RUNS = {
    ('ie_synthdigits_1pct', 0): {100: (30, 40, 80), 200: (20, 50, 81)},
    ('ie_synthdigits_1pct', 1): {100: (35, 65, 82), 200: (25, 60, 83)},
    ('ie_synthdigits_1pct', 2): {100: (40, 80, 84), 200: (45, 70, 85)},
    ('vanilla_synthdigits_1pct', 0): {100: (10, 15, 90), 200: (12, 20, 91)},
    ('vanilla_synthdigits_1pct', 1): {100: (11, 25, 92), 200: (13, 30, 93)},
    ('lff_be_synthdigits_5pct', 0): {100: (50, 42, 70), 200: (40, 41, 71)},
}


def _records(config, seed, evals, max_iters=200, extra=None):
    for it, (valid_c, test_c, test_acc) in evals.items():
        for split, metrics in (('valid', dict(conflicting_acc=valid_c,
                                              acc=99.0)),
                               ('test', dict(conflicting_acc=test_c,
                                             acc=test_acc))):
            if config.startswith('ie') and split == 'test':
                metrics['biased/acc'] = 33.0
            record = dict(config=config, seed=seed, mode='val', split=split,
                          iter=it, checkpoint=None, metrics=metrics,
                          tables={})
            if max_iters is not None:
                record['max_iters'] = max_iters
            record.update(extra or {})
            yield record


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'a') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


@pytest.fixture
def work_dirs(tmp_path):
    """Runs under two roots, as work_dirs/<config>/seed<k>/results.jsonl;
    vanilla's files predate the max_iters field."""
    for (config, seed), evals in RUNS.items():
        root = tmp_path / ('a' if config.startswith('ie') else 'b')
        max_iters = None if config.startswith('vanilla') else 200
        _write(root / config / f'seed{seed}' / 'results.jsonl',
               _records(config, seed, evals, max_iters))
    return [str(tmp_path / 'a'), str(tmp_path / 'b')]


def _run(capsys, *argv):
    code = collect.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _csv(text):
    return {(r['method'], r['setting'], r['metric']): r
            for r in csv.DictReader(io.StringIO(text))}


def test_config_names_split_into_method_and_setting():
    assert parse_config_name('ie_synthdigits_1pct') == ('ie',
                                                        'synthdigits_1pct')
    assert parse_config_name('lff_be_bffhq_0.5pct') == ('lff_be',
                                                        'bffhq_0.5pct')
    assert parse_config_name('pgd-denoise_cmnist_1pct') == (
        'pgd-denoise', 'cmnist_1pct')
    assert parse_config_name('biased-g_biased_mnist_rho0.99') == (
        'biased-g', 'biased_mnist_rho0.99')
    assert parse_config_name(
        'ie_bffhq_1pct_no-bn-loss',
        r'(?P<method>ie_bffhq_1pct_[^_]+|[^_]+)_?(?P<setting>.*)') == (
            'ie_bffhq_1pct_no-bn-loss', '')
    with pytest.raises(ResultsError, match='does not match config'):
        parse_config_name('ie_synthdigits_1pct', r'(?P<method>x)')


def test_markdown_cells_are_mean_std_sem_and_n(work_dirs, capsys):
    code, out, err = _run(capsys, *work_dirs, '--metric', 'conflicting_acc')
    assert code == 0, err
    rows = {line.split('|')[1].strip(): [c.strip()
                                         for c in line.split('|')[2:-1]]
            for line in out.splitlines() if line.startswith('| ')}
    assert rows['method'] == ['synthdigits_1pct', 'synthdigits_5pct']
    # last evaluation (iter 200): ie 50, 60, 70 -> mean 60, std 10,
    # s.e. 10 / sqrt(3) = 5.77
    assert rows['ie'] == ['60.0 ± 10.0 (s.e. 5.8, n=3)', '-']
    # vanilla 20, 30 -> 25, std sqrt(50) = 7.07, s.e. 7.07 / sqrt(2) = 5
    assert rows['vanilla'] == ['25.0 ± 7.1 (s.e. 5.0, n=2)', '-']
    # one seed: no spread
    assert rows['lff_be'] == ['-', '41.0 ± - (s.e. -, n=1)']
    assert 'selected by the rule last.' in out and ORACLE_LABEL not in out
    # vanilla's old files have no max_iters: no budget warning for them
    assert 'budget' not in err


def test_rules_select_per_run_and_csv_keeps_every_seed(work_dirs, capsys):
    code, out, err = _run(capsys, *work_dirs, '--rule',
                          'best-valid-conflicting_acc', '--format', 'csv',
                          '--metric', 'conflicting_acc', 'acc')
    assert code == 0, err
    rows = _csv(out)
    # best valid: seed 0 -> iter 100 (30 > 20), test 40; seed 1 -> 100,
    # 65; seed 2 -> 200 (45 > 40), 70. Mean 175 / 3; squared deviations
    # 336.11 + 44.44 + 136.11 = 516.67, / 2 -> std 16.0728; s.e. 9.2796
    row = rows[('ie', 'synthdigits_1pct', 'conflicting_acc')]
    assert float(row['mean']) == pytest.approx(58.333333, abs=1e-6)
    assert float(row['std']) == pytest.approx(16.072751, abs=1e-6)
    assert float(row['sem']) == pytest.approx(9.279607, abs=1e-6)
    assert row['n'] == '3' and row['seeds'] == '0;1;2'
    assert row['values'] == '40.0;65.0;70.0'
    assert row['iters'] == '100;100;200'
    assert row['oracle'] == 'false' and row['note'] == ''
    acc = rows[('ie', 'synthdigits_1pct', 'acc')]
    assert acc['values'] == '80.0;82.0;85.0'
    assert set(rows) == {(m, s, k) for m, s in (
        ('ie', 'synthdigits_1pct'), ('vanilla', 'synthdigits_1pct'),
        ('lff_be', 'synthdigits_5pct')) for k in ('conflicting_acc', 'acc')}
    single = rows[('lff_be', 'synthdigits_5pct', 'acc')]
    assert single['std'] == '-' and single['sem'] == '-'


@pytest.mark.parametrize('fmt', ['markdown', 'latex', 'csv'])
def test_oracle_rule_is_labelled_in_every_format(work_dirs, capsys, fmt):
    code, out, err = _run(capsys, *work_dirs, '--rule',
                          'oracle-test-conflicting_acc', '--format', fmt)
    assert code == 0, err
    assert ORACLE_LABEL in out
    if fmt == 'csv':
        row = _csv(out)[('ie', 'synthdigits_1pct', 'conflicting_acc')]
        # the best test value of each seed: 50, 65, 80
        assert row['values'] == '50.0;65.0;80.0'
        assert (float(row['mean']), float(row['std'])) == (65.0, 15.0)
        assert float(row['sem']) == pytest.approx(15 / math.sqrt(3))
        assert row['oracle'] == 'true'
        assert all(ORACLE_LABEL in r['note'] for r in _csv(out).values())
    elif fmt == 'markdown':
        assert '| ie | 65.0 ± 15.0 (s.e. 8.7, n=3) | - |' in out
    else:
        assert r'$65.0 \pm 15.0$ {\scriptsize (s.e.\ $8.7$, $n{=}3$)}' in out


def test_latex_is_a_booktabs_table_with_escaped_names(work_dirs, capsys):
    code, out, _ = _run(capsys, *work_dirs, '--format', 'latex', '--metric',
                        'conflicting_acc', 'biased/acc', '--digits', '2')
    assert code == 0
    assert out.count(r'\begin{tabular}{lcc}') == 2
    for rule in (r'\toprule', r'\midrule', r'\bottomrule'):
        assert out.count(rule) == 2
    assert r'Method & synthdigits\_1pct & synthdigits\_5pct \\' in out
    assert r'lff\_be & -- & $41.00 \pm \text{--}$' in out
    # other models' metrics: only IE has a biased model
    assert r'ie & $33.00 \pm 0.00$' in out
    assert r'biased/acc' in out and r'vanilla & -- & -- \\' in out


def test_out_file_grouping_and_sweep_options(work_dirs, tmp_path, capsys):
    # two sweep runs of one config that differ in a swept option
    for tau, value in (('1', 10.0), ('2', 20.0)):
        run = tmp_path / 'sweep' / 'ie_synthdigits_1pct' / f'tau-{tau}' / 's0'
        _write(run / 'results.jsonl', _records(
            'ie_synthdigits_1pct', 0, {100: (1, value, 1)}, max_iters=100))
        (run / 'sweep_run.json').write_text(json.dumps(
            dict(options={'model.tau': tau})))
    out = tmp_path / 'table.csv'
    code, _, err = _run(capsys, str(tmp_path / 'sweep'), '--format', 'csv',
                        '--out', str(out))
    assert code == 0 and 'written to' in err
    rows = _csv(out.read_text())
    assert rows[('ie (model.tau=1)', 'synthdigits_1pct',
                 'conflicting_acc')]['values'] == '10.0'
    assert rows[('ie (model.tau=2)', 'synthdigits_1pct',
                 'conflicting_acc')]['values'] == '20.0'
    # pooled by an overridden grouping: both in one cell, seed 0 twice
    code, text, err = _run(capsys, str(tmp_path / 'sweep'), '--format',
                           'csv', '--group-by', '{method}', 'all')
    assert code == 0
    assert _csv(text)[('ie', 'all', 'conflicting_acc')]['values'] == \
        '10.0;20.0'
    assert 'seed(s) [0] occur in several runs' in err


def test_runs_at_different_budgets_are_warned(work_dirs, tmp_path, capsys):
    # a third IE seed that stopped at iteration 100 of 200
    _write(tmp_path / 'a' / 'ie_synthdigits_1pct' / 'seed3' / 'results.jsonl',
           _records('ie_synthdigits_1pct', 3, {100: (1, 1, 1)}))
    code, _, err = _run(capsys, *work_dirs)
    assert code == 0
    assert 'ie / synthdigits_1pct: runs evaluated at different budgets' in err
    assert 'seed 3: last evaluation at iter 100 of max_iters 200' in err


def test_errors_name_the_dir_rule_and_metric(work_dirs, tmp_path, capsys):
    empty = tmp_path / 'empty'
    empty.mkdir()
    code, _, err = _run(capsys, str(empty))
    assert code == 1 and f'No results.jsonl under "{empty}"' in err
    code, _, err = _run(capsys, str(tmp_path / 'missing'))
    assert code == 1 and 'does not exist' in err
    code, _, err = _run(capsys, *work_dirs, '--rule',
                        'best-valid-unbiased_acc')
    assert code == 1
    assert ('Rule "best-valid-unbiased_acc": no run has metric '
            '"unbiased_acc" on split "valid". Available on "valid": acc, '
            'conflicting_acc.') in err
    code, _, err = _run(capsys, *work_dirs, '--metric', 'worst_group_acc')
    assert code == 1
    assert ('No run has metric "worst_group_acc" on split "test". '
            'Available: acc, biased/acc, conflicting_acc.') in err
    code, _, err = _run(capsys, *work_dirs, '--rule', 'best')
    assert code == 1 and 'Unknown selection rule "best"' in err
    code, _, err = _run(capsys, *work_dirs, '--group-by', '{method}',
                        '{dataset}')
    assert code == 1 and "uses ['dataset']" in err


def test_a_rule_some_runs_lack_leaves_them_out(work_dirs, capsys):
    runs = load_runs(work_dirs)
    table = build_table(runs, 'best-test-biased/acc', ['conflicting_acc'])
    assert table.oracle  # selects on the test split
    assert table.rows == ['ie']
    assert sum('left out' in w for w in table.warnings) == 3


def test_the_script_runs_from_the_command_line(work_dirs, tmp_path):
    proc = subprocess.run(
        [sys.executable,
         str(REPO + '/tools/analysis_tools/collect_results.py'),
         *work_dirs, '--rule', 'oracle-test-acc', '--metric', 'acc'],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '| ie | 83.0 ± 2.0 (s.e. 1.2, n=3) | - |' in proc.stdout
    assert ORACLE_LABEL in proc.stdout
    proc = subprocess.run(
        [sys.executable,
         str(REPO + '/tools/analysis_tools/collect_results.py'),
         str(tmp_path / 'nothing')], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith('error: Work dir')
