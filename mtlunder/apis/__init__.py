from .inference import inference_multitask, init_model
from .inferencer import MultiTaskInferencer

__all__ = ['MultiTaskInferencer', 'inference_multitask', 'init_model']
