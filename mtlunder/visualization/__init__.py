from .grid import (dense_map_picture, det_enh_grid, draw_boxes, draw_predictions,
                   map_range, picture_row, rgb01_to_bgr_uint8)
from .task_weights import plot_task_weights, read_task_weights

__all__ = ['dense_map_picture', 'det_enh_grid', 'draw_boxes', 'draw_predictions',
           'map_range', 'picture_row', 'plot_task_weights', 'read_task_weights',
           'rgb01_to_bgr_uint8']
