from .base_task_head import BaseTaskHead, to_original_size
from .deeplab_head import DeepLabHead
from .depth_head import DepthHead
from .edge_head import EdgeHead
from .enhancement_head import EnhancementHead
from .normal_head import NormalHead
from .parts_head import PartsHead
from .pixel_head import BasePixelHead
from .saliency_head import SaliencyHead
from .seg_head import SegHead

__all__ = ['BaseTaskHead', 'BasePixelHead', 'DeepLabHead', 'DepthHead', 'EdgeHead',
           'EnhancementHead', 'NormalHead', 'PartsHead', 'SaliencyHead', 'SegHead',
           'to_original_size']
