"""Model-selection rules applied after training to ``results.jsonl``.

Every validation during training wrote one record per split (see
:mod:`debiascls.engine.results`). A rule picks one evaluation (an iteration)
and reports every split's metrics there:

- ``last``: the last evaluation;
- ``best-<split>-<metric>``: the evaluation with the highest ``<metric>`` on
  ``<split>`` (ties: the earliest), e.g. ``best-valid-conflicting_acc``, the
  default of Colored MNIST and SynthDigits configs;
- ``oracle-test-<metric>``: ``best-test-<metric>``, the protocol of most
  debiasing papers (DisEnt, BiasEnsemble, IE report the best test accuracy
  during training). It selects on the test set, so it is an upper bound,
  never a default; reports label it as such.
"""
from typing import Any, Dict, Iterable, List, Optional

ORACLE_NOTE = ('selected on the test set (the papers\' protocol): an '
               'optimistic upper bound, not a held-out estimate')


class SelectionError(ValueError):
    """A rule that cannot be applied to the given results."""


def _evaluations(records: Iterable[Dict[str, Any]]
                 ) -> Dict[int, Dict[str, Dict[str, float]]]:
    """``{iteration: {split: metrics}}`` of the validations during training
    (a later record of the same iteration and split replaces an earlier one,
    e.g. after a resume)."""
    evals: Dict[int, Dict[str, Dict[str, float]]] = {}
    for record in records:
        if record.get('mode') != 'val' or record.get('iter') is None:
            continue
        evals.setdefault(int(record['iter']),
                         {})[record['split']] = record['metrics']
    return dict(sorted(evals.items()))


def parse_rule(rule: str) -> Optional[tuple]:
    """``None`` for ``last``, else ``(split, metric, is_oracle)``."""
    if rule == 'last':
        return None
    if rule.startswith('oracle-test-'):
        return 'test', rule[len('oracle-test-'):], True
    if rule.startswith('best-'):
        split, sep, metric = rule[len('best-'):].partition('-')
        if sep and metric:
            return split, metric, split == 'test'
    raise SelectionError(
        f'Unknown selection rule "{rule}"; use "last", '
        '"best-<split>-<metric>" (e.g. best-valid-conflicting_acc) or '
        '"oracle-test-<metric>".')


def select(records: Iterable[Dict[str, Any]], rule: str) -> Dict[str, Any]:
    """Apply ``rule`` to the records of one run.

    Returns:
        ``{'rule', 'iter', 'splits': {split: metrics}, 'oracle': bool,
        'note'}``.

    Raises:
        SelectionError: No validation records, an unknown rule, or a
            split/metric that no evaluation has (the message lists those
            available).
    """
    evals = _evaluations(records)
    if not evals:
        raise SelectionError('No validation records (mode "val") to select '
                             'from; was the run trained with validation?')
    parsed = parse_rule(rule)
    if parsed is None:
        chosen = list(evals)[-1]
        oracle = False
    else:
        split, metric, oracle = parsed
        scored = [(it, splits[split][metric]) for it, splits in evals.items()
                  if metric in splits.get(split, {})]
        if not scored:
            available = sorted({
                f'{s}-{m}'
                for splits in evals.values() for s, ms in splits.items()
                for m in ms
            })
            raise SelectionError(
                f'Rule "{rule}": no evaluation has metric "{metric}" on split '
                f'"{split}". Available <split>-<metric>: '
                f'{", ".join(available)}.')
        best = max(value for _, value in scored)
        chosen = next(it for it, value in scored if value == best)
    return dict(
        rule=rule,
        iter=chosen,
        splits=evals[chosen],
        oracle=oracle,
        note=ORACLE_NOTE if oracle else '')


def selection_table(results: List[Dict[str, Any]],
                    metrics: Iterable[str]) -> str:
    """A text table, one row per (rule, split), of :func:`select` results."""
    metrics = list(metrics)
    header = ['rule', 'iter', 'split'] + metrics
    rows = [header]
    for result in results:
        name = result['rule'] + (' (oracle)' if result['oracle'] else '')
        for split, values in result['splits'].items():
            rows.append([name, str(result['iter']), split] + [
                f'{values[m]:.2f}' if m in values else '-' for m in metrics
            ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [' | '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    notes = {r['note'] for r in results if r['note']}
    return '\n'.join(lines + [f'(oracle: {n})' for n in notes])
