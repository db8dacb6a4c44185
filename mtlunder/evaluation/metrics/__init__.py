from .combined_score import CombinedScoreMetric
from .dense_metrics import DepthMetric, EdgeMetric, NormalMetric, SegMetric
from .enhancement_metric import EnhancementMetric
from .task_coco_metric import TaskCocoMetric
from .underwater_quality import UnderwaterQualityMetric

__all__ = ['CombinedScoreMetric', 'DepthMetric', 'EdgeMetric', 'EnhancementMetric',
           'NormalMetric', 'SegMetric', 'TaskCocoMetric', 'UnderwaterQualityMetric']
