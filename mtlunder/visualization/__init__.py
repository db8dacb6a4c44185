from .grid import det_enh_grid, draw_boxes

__all__ = ['det_enh_grid', 'draw_boxes']
