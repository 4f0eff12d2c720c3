"""Collect the results of many runs into a paper-style table.

``python tools/analysis_tools/collect_results.py WORK_DIRS... [--rule RULE]
[--metric METRIC ...] [--split test] [--format markdown|latex|csv]
[--out FILE] [--group-by ROW COLUMN] [--config-pattern REGEX]``

Finds every ``results.jsonl`` under WORK_DIRS, applies one selection rule
per run (``last``, ``best-valid-<metric>``, ``oracle-test-<metric>``; see
docs/model_selection.md) and prints methods x settings, each cell the mean
± std over seeds with the standard error and the number of seeds. The logic
lives in debiascls/evaluation/results_table.py.
"""
import argparse
import sys

from debiascls.utils.fileio import atomic_write_text
from debiascls.evaluation.results_table import (DEFAULT_GROUP_BY, FORMATS,
                                                ResultsError, build_table,
                                                load_runs, render)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+',
                        help='folders searched recursively for results.jsonl')
    parser.add_argument(
        '--rule', default='last',
        help='selection rule applied to every run: last, '
        'best-valid-<metric>, oracle-test-<metric> (default: last)')
    parser.add_argument(
        '--metric', nargs='+', default=['conflicting_acc'],
        help='metrics of the table, one table each (other models: '
        '<model>/<metric>, e.g. biased/acc); default: conflicting_acc')
    parser.add_argument('--split', default='test',
                        help='split whose metrics are reported (test)')
    parser.add_argument('--format', choices=FORMATS, default='markdown')
    parser.add_argument('--digits', type=int,
                        help='decimals (default: 1; csv: 6)')
    parser.add_argument('--out', help='write the table to this file')
    parser.add_argument(
        '--group-by', nargs=2, metavar=('ROW', 'COLUMN'),
        default=list(DEFAULT_GROUP_BY),
        help='templates of the row and column labels, from the fields '
        '{config} {method} {setting} {options} {options_raw} {seed} '
        '{work_dir} {name} {parent} {grandparent} (of the run dir); '
        'default: '
        f'{" ".join(repr(t) for t in DEFAULT_GROUP_BY)}')
    parser.add_argument(
        '--config-pattern',
        help='regular expression with the groups (?P<method>...) and '
        '(?P<setting>...) that splits a config name (default: the method '
        'ends at the first "_", except lff_be)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        runs = load_runs(args.work_dirs, args.config_pattern)
        table = build_table(runs, args.rule, args.metric, args.split,
                            tuple(args.group_by))
        text = render(table, args.format, args.digits)
    except ResultsError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for warning in table.warnings:
        print(f'warning: {warning}', file=sys.stderr)
    if args.out:
        atomic_write_text(text, args.out)
        print(f'{len(runs)} runs, {len(table.rows)} rows x '
              f'{len(table.columns)} columns written to {args.out}',
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
