from .combined_score import CombinedScoreMetric
from .depth_metric import DepthMetric
from .edge_metric import EdgeMetric
from .enhancement_metric import EnhancementMetric
from .multitask_delta_metric import MultiTaskDeltaMetric
from .normal_metric import NormalMetric
from .saliency_metric import SaliencyMetric
from .seg_metric import SegMetric
from .task_coco_metric import TaskCocoMetric
from .underwater_quality import UnderwaterQualityMetric
from .wrapper_metric import WrapperMetric

__all__ = ['CombinedScoreMetric', 'DepthMetric', 'EdgeMetric', 'EnhancementMetric',
           'MultiTaskDeltaMetric', 'NormalMetric', 'SaliencyMetric', 'SegMetric',
           'TaskCocoMetric', 'UnderwaterQualityMetric', 'WrapperMetric']
