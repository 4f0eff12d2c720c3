"""Paper-style tables of many runs: methods x settings, mean ± std over seeds.

Every training run writes ``<work_dir>/results.jsonl`` (see
:mod:`debiascls.engine.results`). :func:`load_runs` finds those files under
some folders and splits them into runs (one per config and seed);
:func:`build_table` applies one model-selection rule of
:mod:`debiascls.evaluation.selection` to every run, groups the runs into
cells (rows: methods, columns: settings; the seeds of one config are the
samples of one cell) and computes, per cell and metric, the mean, the
sample standard deviation, the standard error of the mean and the number of
seeds. :func:`render` prints the table as Markdown, LaTeX (booktabs) or CSV.

Method and setting come from the config name ``<method>_<setting>``
(``ie_synthdigits_1pct`` -> ``ie``, ``synthdigits_1pct``); runs of
``tools/sweep.py`` also carry the swept ``--cfg-options`` values, which by
default become part of the row label. Both are overridable
(``config_pattern``, ``group_by``).

A rule that selects on the test split (``oracle-test-<metric>``,
``best-test-<metric>``) is labelled :data:`ORACLE_LABEL` in every format.
"""
import csv
import io
import math
import os
import os.path as osp
import re
import string
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from debiascls.engine.results import RESULTS_FILE, read_results
from .selection import SelectionError, parse_rule, select

#: The label of a rule that selects on the test set, in every format.
ORACLE_LABEL = "the papers' protocol, selected on the test set"
#: Written by ``tools/sweep.py`` into each run's work dir: the config, the
#: swept option values and the seed of the run.
SWEEP_RUN_FILE = 'sweep_run.json'
#: Methods whose name holds an underscore (all others end at the first
#: ``_`` of the config name). Configs are ``<method>_<dataset>_<setting>``.
METHODS_WITH_UNDERSCORE = ('lff_be', 'disent_be')
#: Default grouping: rows, columns (``str.format`` templates of
#: :meth:`Run.fields`).
DEFAULT_GROUP_BY = ('{method}{options}', '{setting}')


class ResultsError(ValueError):
    """Results that cannot be collected into a table (the message names the
    file, rule or metric and the fix)."""


def parse_config_name(config: str,
                      pattern: Optional[str] = None) -> Tuple[str, str]:
    """``(method, setting)`` of a config name.

    Args:
        config: e.g. ``'lff_be_synthdigits_1pct'``.
        pattern: A regular expression with the named groups ``method`` and
            ``setting`` that replaces the default rule (the method is
            :data:`METHODS_WITH_UNDERSCORE` or the text before the first
            ``_``, the setting the rest).
    """
    if pattern is not None:
        match = re.fullmatch(pattern, config)
        if match is None or not {'method', 'setting'} <= set(
                match.groupdict()):
            raise ResultsError(
                f'--config-pattern {pattern!r} does not match config '
                f'"{config}" with the named groups (?P<method>...) and '
                '(?P<setting>...); fix the pattern or use --group-by.')
        return match.group('method'), match.group('setting')
    for method in METHODS_WITH_UNDERSCORE:
        if config.startswith(method + '_'):
            return method, config[len(method) + 1:]
    method, sep, setting = config.partition('_')
    return method, (setting if sep else '')


@dataclass
class Run:
    """One training run: the records of one (config, seed) in one
    ``results.jsonl``."""
    path: str
    config: str
    seed: Optional[int]
    records: List[Dict[str, Any]]
    method: str
    setting: str
    options: Dict[str, str] = field(default_factory=dict)

    @property
    def work_dir(self) -> str:
        return osp.dirname(self.path)

    @property
    def val_iters(self) -> List[int]:
        return sorted({
            int(r['iter'])
            for r in self.records
            if r.get('mode') == 'val' and r.get('iter') is not None
        })

    @property
    def last_iter(self) -> Optional[int]:
        iters = self.val_iters
        return iters[-1] if iters else None

    @property
    def max_iters(self) -> Optional[int]:
        """The budget recorded by training (None in files written before
        ``max_iters`` was recorded)."""
        values = [
            r['max_iters'] for r in self.records
            if r.get('mode') == 'val' and r.get('max_iters') is not None
        ]
        return int(values[-1]) if values else None

    def budget(self) -> str:
        total = self.max_iters
        last = self.last_iter
        return (f'last evaluation at iter {last}' +
                (f' of max_iters {total}' if total is not None else ''))

    def fields(self) -> Dict[str, str]:
        """The names usable in ``group_by`` templates."""
        options = ', '.join(f'{k}={v}' for k, v in self.options.items())
        return dict(
            config=self.config,
            method=self.method,
            setting=self.setting,
            options=f' ({options})' if options else '',
            options_raw=options,
            seed='' if self.seed is None else str(self.seed),
            work_dir=self.work_dir,
            name=osp.basename(self.work_dir),
            parent=osp.basename(osp.dirname(self.work_dir)),
            grandparent=osp.basename(
                osp.dirname(osp.dirname(self.work_dir))))

    def describe(self) -> str:
        return f'{self.config} seed {self.seed} ({self.path})'


def find_results_files(work_dirs: Sequence[str]) -> List[str]:
    """Every ``results.jsonl`` under each of ``work_dirs`` (recursively),
    sorted.

    Raises:
        ResultsError: A work dir that does not exist or holds none.
    """
    if not work_dirs:
        raise ResultsError('No work dirs given; pass the folders of '
                           'training runs (they hold results.jsonl).')
    found: List[str] = []
    for work_dir in work_dirs:
        if osp.isfile(work_dir) and osp.basename(work_dir) == RESULTS_FILE:
            found.append(work_dir)
            continue
        if not osp.isdir(work_dir):
            raise ResultsError(f'Work dir "{work_dir}" does not exist.')
        here = []
        for root, dirs, files in os.walk(work_dir):
            dirs.sort()
            if RESULTS_FILE in files:
                here.append(osp.join(root, RESULTS_FILE))
        if not here:
            raise ResultsError(
                f'No {RESULTS_FILE} under "{work_dir}": it is not the work '
                'dir of a training run (tools/train.py writes one per run), '
                'or the runs have not evaluated yet.')
        found.extend(here)
    return sorted(set(found))


def _sweep_options(work_dir: str) -> Dict[str, str]:
    import json
    path = osp.join(work_dir, SWEEP_RUN_FILE)
    if not osp.isfile(path):
        return {}
    with open(path, encoding='utf-8') as f:
        try:
            info = json.load(f)
        except json.JSONDecodeError as e:
            raise ResultsError(f'"{path}" is not valid JSON ({e}); delete it '
                               'or rerun tools/sweep.py to rewrite it.')
    return {str(k): str(v) for k, v in (info.get('options') or {}).items()}


def load_runs(work_dirs: Sequence[str],
              config_pattern: Optional[str] = None) -> List[Run]:
    """The runs of every ``results.jsonl`` under ``work_dirs``: one per
    (config, seed) of each file (a resumed run keeps its config and seed)."""
    runs: List[Run] = []
    for path in find_results_files(work_dirs):
        try:
            records = list(read_results(path))
        except ValueError as e:
            raise ResultsError(f'{e}; repair or remove that line.') from None
        by_run: Dict[Tuple[str, Any], List[Dict[str, Any]]] = {}
        for record in records:
            config = record.get('config') or osp.basename(osp.dirname(path))
            by_run.setdefault((config, record.get('seed')), []).append(record)
        options = _sweep_options(osp.dirname(path))
        for (config, seed), recs in by_run.items():
            method, setting = parse_config_name(config, config_pattern)
            runs.append(
                Run(path=path, config=config, seed=seed, records=recs,
                    method=method, setting=setting, options=options))
    return runs


@dataclass
class Cell:
    """The values of one metric over the seeds of one (row, column)."""
    row: str
    column: str
    metric: str
    values: List[float] = field(default_factory=list)
    seeds: List[Optional[int]] = field(default_factory=list)
    iters: List[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (n - 1 in the denominator); NaN for a
        single seed."""
        if self.n < 2:
            return math.nan
        mean = self.mean
        return math.sqrt(
            sum((v - mean)**2 for v in self.values) / (self.n - 1))

    @property
    def sem(self) -> float:
        """Standard error of the mean, std / sqrt(n)."""
        return self.std / math.sqrt(self.n) if self.n >= 2 else math.nan


@dataclass
class Table:
    rule: str
    split: str
    metrics: List[str]
    oracle: bool
    rows: List[str]
    columns: List[str]
    cells: Dict[Tuple[str, str, str], Cell]
    warnings: List[str]

    @property
    def note(self) -> str:
        return (f'{ORACLE_LABEL}: an optimistic upper bound, not a held-out '
                'estimate' if self.oracle else '')

    def caption(self, metric: str) -> str:
        text = (f'{self.split} {metric}, model selected by the rule '
                f'{self.rule}')
        if self.oracle:
            text += f': {ORACLE_LABEL}, an optimistic upper bound'
        return (text + '. Mean ± std over seeds (standard error of the '
                'mean, number of seeds).')


def _natural_key(text: str) -> list:
    return [(0, float(t), '') if re.fullmatch(r'\d+(?:\.\d+)?', t) else
            (1, 0.0, t) for t in re.split(r'(\d+(?:\.\d+)?)', text) if t]


def _render(template: str, run: Run) -> str:
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    fields = run.fields()
    unknown = names - set(fields)
    if unknown:
        raise ResultsError(
            f'--group-by template {template!r} uses {sorted(unknown)}; '
            f'available fields: {", ".join("{" + f + "}" for f in fields)}.')
    return template.format(**fields)


def _available(runs: Iterable[Run], split: str) -> List[str]:
    return sorted({
        m
        for run in runs for r in run.records
        if r.get('mode') == 'val' and r.get('split') == split
        for m in r.get('metrics', {})
    })


def build_table(runs: Sequence[Run],
                rule: str,
                metrics: Sequence[str],
                split: str = 'test',
                group_by: Tuple[str, str] = DEFAULT_GROUP_BY) -> Table:
    """Apply ``rule`` to every run and group the selected ``split`` metrics
    into cells.

    Raises:
        ResultsError: No runs, an unknown rule, a rule or metric that no run
            has (the message lists the available metrics), a split no run
            evaluated.
    """
    if not runs:
        raise ResultsError('No runs to collect.')
    metrics = list(metrics)
    if not metrics:
        raise ResultsError('No metric given; pass --metric NAME.')
    try:
        parsed = parse_rule(rule)
    except SelectionError as e:
        raise ResultsError(str(e)) from None
    warnings: List[str] = []
    if parsed is not None:
        rule_split, rule_metric, _ = parsed
        available = _available(runs, rule_split)
        if rule_metric not in available:
            raise ResultsError(
                f'Rule "{rule}": no run has metric "{rule_metric}" on split '
                f'"{rule_split}". Available on "{rule_split}": '
                f'{", ".join(available) or "none (no such split)"}.')
    available = _available(runs, split)
    if not available:
        splits = sorted({
            r.get('split')
            for run in runs for r in run.records if r.get('mode') == 'val'
        })
        raise ResultsError(f'No run evaluated split "{split}"; evaluated: '
                           f'{", ".join(map(str, splits))}.')
    for metric in metrics:
        if metric not in available:
            raise ResultsError(
                f'No run has metric "{metric}" on split "{split}". Available:'
                f' {", ".join(available)}.')

    cells: Dict[Tuple[str, str, str], Cell] = {}
    members: Dict[Tuple[str, str], List[Run]] = {}
    oracle = False
    for run in runs:
        try:
            chosen = select(run.records, rule)
        except SelectionError as e:
            warnings.append(f'{run.describe()} left out: {e}')
            continue
        oracle = oracle or chosen['oracle']
        row, column = (_render(group_by[0], run), _render(group_by[1], run))
        members.setdefault((row, column), []).append(run)
        values = chosen['splits'].get(split, {})
        for metric in metrics:
            cell = cells.setdefault((row, column, metric),
                                    Cell(row, column, metric))
            if metric not in values:
                warnings.append(
                    f'{run.describe()} has no "{metric}" on split "{split}" '
                    f'at iter {chosen["iter"]}; left out of {row} / '
                    f'{column}.')
                continue
            cell.values.append(float(values[metric]))
            cell.seeds.append(run.seed)
            cell.iters.append(chosen['iter'])
    if not members:
        raise ResultsError(f'Rule "{rule}" applies to no run:\n' +
                           '\n'.join(warnings))
    for (row, column), group in sorted(members.items()):
        seeds = [r.seed for r in group]
        repeated = sorted({s for s in seeds if seeds.count(s) > 1},
                          key=str)
        if repeated:
            warnings.append(
                f'{row} / {column}: seed(s) {repeated} occur in several runs '
                f'({", ".join(sorted(r.path for r in group))}); each is '
                'counted as a sample.')
        # Files written before max_iters was recorded have only the last
        # evaluated iteration.
        last_iters = {r.last_iter for r in group}
        max_iters = {r.max_iters for r in group if r.max_iters is not None}
        unfinished = [
            r for r in group
            if r.max_iters is not None and r.last_iter is not None
            and r.last_iter < r.max_iters
        ]
        if len(last_iters) > 1 or len(max_iters) > 1 or unfinished:
            warnings.append(
                f'{row} / {column}: runs evaluated at different budgets or '
                'unfinished: ' + '; '.join(
                    f'seed {r.seed}: {r.budget()} ({r.path})'
                    for r in sorted(group, key=lambda r: str(r.seed))) +
                '. Finish the runs (tools/sweep.py resumes them) or compare '
                'equal budgets.')
    rows = sorted({k[0] for k in members}, key=_natural_key)
    columns = sorted({k[1] for k in members}, key=_natural_key)
    return Table(rule=rule, split=split, metrics=metrics, oracle=oracle,
                 rows=rows, columns=columns, cells=cells, warnings=warnings)


def _num(value: float, digits: int) -> str:
    return '-' if math.isnan(value) else f'{value:.{digits}f}'


def format_cell(cell: Optional[Cell], digits: int = 1) -> str:
    """``'58.0 ± 2.1 (s.e. 1.2, n=3)'``; ``'-'`` for an empty cell."""
    if cell is None or cell.n == 0:
        return '-'
    return (f'{_num(cell.mean, digits)} ± {_num(cell.std, digits)} '
            f'(s.e. {_num(cell.sem, digits)}, n={cell.n})')


def to_markdown(table: Table, digits: int = 1) -> str:
    blocks = []
    for metric in table.metrics:
        lines = [f'**{table.caption(metric)}**', '']
        if table.oracle:
            lines += [f'> Oracle selection: {table.note}.', '']
        header = ['method'] + table.columns
        lines.append('| ' + ' | '.join(header) + ' |')
        lines.append('|' + '---|' * len(header))
        for row in table.rows:
            cells = [
                format_cell(table.cells.get((row, c, metric)), digits)
                for c in table.columns
            ]
            lines.append(f'| {row} | ' + ' | '.join(cells) + ' |')
        blocks.append('\n'.join(lines))
    return '\n\n'.join(blocks) + '\n'


_LATEX_SPECIAL = {
    '\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$',
    '#': r'\#', '_': r'\_', '{': r'\{', '}': r'\}', '~': r'\textasciitilde{}',
    '^': r'\textasciicircum{}', '±': r'$\pm$'
}


def latex_escape(text: str) -> str:
    return ''.join(_LATEX_SPECIAL.get(c, c) for c in text)


def _latex_cell(cell: Optional[Cell], digits: int) -> str:
    if cell is None or cell.n == 0:
        return '--'

    def num(value: float) -> str:
        return '\\text{--}' if math.isnan(value) else f'{value:.{digits}f}'

    return (f'${num(cell.mean)} \\pm {num(cell.std)}$ {{\\scriptsize '
            f'(s.e.\\ ${num(cell.sem)}$, $n{{=}}{cell.n}$)}}')


def to_latex(table: Table, digits: int = 1) -> str:
    blocks = []
    for metric in table.metrics:
        lines = []
        if table.oracle:
            lines.append(f'% rule {table.rule}: {table.note}')
        lines += [
            r'\begin{table}[t]', r'\centering',
            f'\\caption{{{latex_escape(table.caption(metric))}}}',
            r'\begin{tabular}{l' + 'c' * len(table.columns) + '}',
            r'\toprule',
            ' & '.join(['Method'] + [latex_escape(c)
                                     for c in table.columns]) + r' \\',
            r'\midrule'
        ]
        for row in table.rows:
            cells = [
                _latex_cell(table.cells.get((row, c, metric)), digits)
                for c in table.columns
            ]
            lines.append(' & '.join([latex_escape(row)] + cells) + r' \\')
        lines += [r'\bottomrule', r'\end{tabular}', r'\end{table}']
        blocks.append('\n'.join(lines))
    return '\n\n'.join(blocks) + '\n'


CSV_COLUMNS = ('method', 'setting', 'metric', 'split', 'rule', 'oracle',
               'note', 'mean', 'std', 'sem', 'n', 'seeds', 'values', 'iters')


def to_csv(table: Table, digits: int = 6) -> str:
    """One row per (method, setting, metric); the per-seed values, seeds and
    selected iterations are ``;``-separated in seed order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_COLUMNS)
    for row in table.rows:
        for column in table.columns:
            for metric in table.metrics:
                cell = table.cells.get((row, column, metric))
                if cell is None or cell.n == 0:
                    continue
                order = sorted(range(cell.n),
                               key=lambda i: (str(cell.seeds[i]), i))
                writer.writerow([
                    row, column, metric, table.split, table.rule,
                    str(table.oracle).lower(), table.note,
                    _num(cell.mean, digits), _num(cell.std, digits),
                    _num(cell.sem, digits), cell.n,
                    ';'.join(str(cell.seeds[i]) for i in order),
                    ';'.join(repr(cell.values[i]) for i in order),
                    ';'.join(str(cell.iters[i]) for i in order)
                ])
    return out.getvalue()


FORMATS = ('markdown', 'latex', 'csv')


def render(table: Table, fmt: str = 'markdown',
           digits: Optional[int] = None) -> str:
    if fmt == 'markdown':
        return to_markdown(table, 1 if digits is None else digits)
    if fmt == 'latex':
        return to_latex(table, 1 if digits is None else digits)
    if fmt == 'csv':
        return to_csv(table, 6 if digits is None else digits)
    raise ResultsError(f'Unknown format "{fmt}"; use one of {FORMATS}.')
