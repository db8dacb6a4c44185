from .grad_conflict import load_conflict_scalars, plot_conflicts
from .grid import (dense_map_picture, det_enh_grid, draw_boxes, draw_predictions,
                   map_range, picture_row, rgb01_to_bgr_uint8)
from .task_weights import plot_task_weights, read_task_weights

__all__ = ['dense_map_picture', 'det_enh_grid', 'draw_boxes', 'draw_predictions',
           'load_conflict_scalars', 'map_range', 'picture_row', 'plot_conflicts',
           'plot_task_weights', 'read_task_weights', 'rgb01_to_bgr_uint8']
