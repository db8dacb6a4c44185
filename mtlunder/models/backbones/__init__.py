from .etr_nlp import ETRNLPNet
from .squadnet import ShuffleDownsample, SquadNet

__all__ = ['ETRNLPNet', 'ShuffleDownsample', 'SquadNet']
