from .combined_score import CombinedScoreMetric
from .enhancement_metric import EnhancementMetric

__all__ = ['CombinedScoreMetric', 'EnhancementMetric']
