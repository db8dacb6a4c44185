"""Array-level building blocks of the metrics (no mmengine state): edge thinning and
matching, and the image reader of the image-quality metrics."""
from .edge_matching import match_edges
from .edge_thinning import thin
from .image_io import read_rgb

__all__ = ['match_edges', 'read_rgb', 'thin']
