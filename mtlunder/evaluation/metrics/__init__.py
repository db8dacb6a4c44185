from .combined_score import CombinedScoreMetric
from .enhancement_metric import EnhancementMetric
from .task_coco_metric import TaskCocoMetric

__all__ = ['CombinedScoreMetric', 'EnhancementMetric', 'TaskCocoMetric']
