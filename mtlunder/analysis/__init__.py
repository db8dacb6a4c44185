"""Analyses on top of the library: multi-seed studies of trained configs.

Nothing in the library imports this package; it may import every other layer.
"""
from .study import Study, StudyRun, load_study, plan_study, run_study  # noqa: F401
from .study_report import summarise, write_report  # noqa: F401
