from .cascade_detector import CascadeEnhanceDetect
from .multitask_detector import MultiTaskDetector

__all__ = ['MultiTaskDetector', 'CascadeEnhanceDetect']
