"""Scope set-up shared by tools, tests and the inference API.

:func:`register_all_modules` imports every registering package, so this package sits above
them and below ``apis`` and ``analysis`` (setup.cfg, docs/architectures.md "Layers").
"""


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mtlunder (and mmdet) module so its components are registered.

    Args:
        init_default_scope: set mmengine's default scope to ``'mtlunder'``.
    """
    import mmdet.utils

    mmdet.utils.register_all_modules(init_default_scope=False)
    import mtlunder.balancers  # noqa: F401
    import mtlunder.datasets  # noqa: F401
    import mtlunder.engine  # noqa: F401
    import mtlunder.evaluation  # noqa: F401
    import mtlunder.models  # noqa: F401
    import mtlunder.visualization  # noqa: F401

    if init_default_scope:
        import datetime

        from mmengine.registry import DefaultScope

        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != 'mtlunder':
            DefaultScope.get_instance(f'mtlunder-{datetime.datetime.now()}',
                                      scope_name='mtlunder')
