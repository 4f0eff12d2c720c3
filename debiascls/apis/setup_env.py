"""Registration of every debiascls module and the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every sub-package that registers modules, and optionally set
    ``debiascls`` as the default scope (as mmpretrain's function of the same
    name does).

    Args:
        init_default_scope: Whether to make ``debiascls`` the current default
            scope. If another scope is current, a new ``debiascls`` scope with
            a unique name is created and a warning is issued.
    """
    import debiascls.datasets  # noqa: F401,F403
    import debiascls.engine  # noqa: F401,F403
    import debiascls.evaluation  # noqa: F401,F403
    import debiascls.models  # noqa: F401,F403
    import debiascls.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('debiascls', scope_name='debiascls')
    elif current.scope_name != 'debiascls':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "debiascls"; `register_all_modules` creates a new '
                      'default scope named "debiascls".')
        name = f'debiascls-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='debiascls')
