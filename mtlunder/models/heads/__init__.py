from .enhancement_head import EnhancementHead

__all__ = ['EnhancementHead']
