from .inference import inference_multitask, init_model

__all__ = ['inference_multitask', 'init_model']
