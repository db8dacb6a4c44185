from .grid import det_enh_grid, draw_boxes, rgb01_to_bgr_uint8
from .task_weights import plot_task_weights, read_task_weights

__all__ = ['det_enh_grid', 'draw_boxes', 'plot_task_weights', 'read_task_weights',
           'rgb01_to_bgr_uint8']
