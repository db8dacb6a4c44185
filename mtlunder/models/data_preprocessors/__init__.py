from .multitask_data_preprocessor import (MultiTaskDataPreprocessor, denormalize,
                                          input_normalization)

__all__ = ['MultiTaskDataPreprocessor', 'denormalize', 'input_normalization']
