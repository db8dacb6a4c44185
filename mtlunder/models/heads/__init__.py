from .base_task_head import BaseTaskHead, to_original_size
from .enhancement_head import EnhancementHead

__all__ = ['BaseTaskHead', 'EnhancementHead', 'to_original_size']
