from .grad_conflict import load_conflict_scalars, plot_conflicts
# the atomic writers, public here before they moved to mtlunder.fileio
from mtlunder.fileio import atomic_imwrite, atomic_write_bytes, atomic_write_palette_png
from .maps import class_palette, dense_map_picture, map_range, rgb01_to_bgr_uint8
from .multitask_visualizer import (MultiTaskLocalVisualizer, class_overlay, is_probability_map,
                                   map_array)
from .task_weights import plot_task_weights, read_task_weights

__all__ = ['MultiTaskLocalVisualizer', 'class_overlay', 'atomic_imwrite', 'atomic_write_bytes',
           'atomic_write_palette_png', 'class_palette', 'dense_map_picture',
           'is_probability_map', 'load_conflict_scalars', 'map_array', 'map_range',
           'plot_conflicts', 'plot_task_weights', 'read_task_weights', 'rgb01_to_bgr_uint8']
