from .grid import det_enh_grid, draw_boxes, rgb01_to_bgr_uint8

__all__ = ['det_enh_grid', 'draw_boxes', 'rgb01_to_bgr_uint8']
