from .combined_score import CombinedScoreMetric
from .enhancement_metric import EnhancementMetric
from .task_coco_metric import TaskCocoMetric
from .underwater_quality import UnderwaterQualityMetric

__all__ = ['CombinedScoreMetric', 'EnhancementMetric', 'TaskCocoMetric',
           'UnderwaterQualityMetric']
