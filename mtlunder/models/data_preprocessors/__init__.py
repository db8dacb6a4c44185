from .multitask_data_preprocessor import MultiTaskDataPreprocessor, denormalize

__all__ = ['MultiTaskDataPreprocessor', 'denormalize']
