from .combined_score import CombinedScoreMetric
from .dense_metrics import DepthMetric, EdgeMetric, NormalMetric, SegMetric
from .enhancement_metric import EnhancementMetric
from .multitask_delta_metric import MultiTaskDeltaMetric
from .saliency_metric import SaliencyMetric
from .task_coco_metric import TaskCocoMetric
from .underwater_quality import UnderwaterQualityMetric
from .wrapper_metric import WrapperMetric

__all__ = ['CombinedScoreMetric', 'DepthMetric', 'EdgeMetric', 'EnhancementMetric',
           'MultiTaskDeltaMetric', 'NormalMetric', 'SaliencyMetric', 'SegMetric',
           'TaskCocoMetric', 'UnderwaterQualityMetric', 'WrapperMetric']
