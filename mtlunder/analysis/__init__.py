"""Analyses on top of the library, the top layer (setup.cfg, docs/architectures.md "Layers").

- :mod:`.model_timing`: training-step time and inference throughput of configs;
- :mod:`.flops`: parameters and FLOPs per component and per task;
- :mod:`.architecture_comparison`: joint vs cascade models, cost and trained ratios;
- :mod:`.balancer_timing`: the cost of every balancer relative to equal weighting;
- :mod:`.study` / :mod:`.study_report`: multi-seed studies of trained configs.

Nothing in the library imports this package; it may import every other layer. Only the
study runner is re-exported here; import the other modules by name.
"""
from .study import Study, StudyRun, load_study, plan_study, run_study  # noqa: F401
from .study_report import summarise, write_report  # noqa: F401
