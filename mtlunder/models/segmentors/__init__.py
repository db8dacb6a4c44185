from .multitask_segmentor import MultiTaskSegmentor

__all__ = ['MultiTaskSegmentor']
