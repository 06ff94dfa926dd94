r"""``Dropout`` and ``Dropout2d``: inverted dropout with the module's own random generator."""

from __future__ import annotations

from typing import Any

from .. import autograd
from . import functional as F
from .init import GeneratorLike, get_generator
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    r"""Inverted dropout (Srivastava et al., 2014): in training, zero each element with
    probability ``p`` and scale the survivors by :math:`1/(1-p)`; in evaluation, the
    identity.

    .. math:: y = x \odot m / (1-p),\quad m_i \sim \text{Bernoulli}(1-p)

    Because the survivors are scaled up in training, the expected activation is the same
    in both modes and evaluation needs no rescaling. The mask multiplies the gradient too,
    so the gradient is exactly 0 where an element was dropped. ``p = 0`` returns the input
    itself; ``p = 1`` drops everything (zeros, and a zero gradient), as in PyTorch.

    Parameters
    ----------
    p : float
        Drop probability, in ``[0, 1]`` (a Python or numpy number).
    generator : numpy.random.Generator, int seed or None
        The source of the masks; None draws from the library's default generator
        (``tg.manual_seed`` reseeds it) at each call.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> drop = nn.Dropout(0.5, generator=0)
    >>> sorted(set(drop(tg.ones(100)).tolist()))
    [0.0, 2.0]
    >>> drop.eval()(tg.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, generator: GeneratorLike = None) -> None:
        super().__init__()
        self.p = F.check_probability("Dropout", p)
        # an int seed becomes this module's own generator; None means the default one
        self.generator = None if generator is None else get_generator(generator)

    def forward(self, x: Any) -> Any:
        if autograd._tracer is not None:  # tg.compile: the mask draw becomes a plan step
            y = autograd._tracer.dropout(self, x)
            if y is not None:
                return y
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    r"""Channel dropout (Tompson et al., 2015): in training, zero each whole channel of
    ``(N, C, H, W)`` or ``(C, H, W)`` input with probability ``p`` and scale the kept
    channels by :math:`1/(1-p)`; in evaluation, the identity.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single
    elements (``Dropout``) regularises a convolutional layer little; dropping whole maps
    does. 3-d input is one sample ``(C, H, W)``, as PyTorch documents it (PyTorch 2.13
    itself still reads 3-d input as ``(N, C, L)``, with a warning); see
    :func:`~tensorgraph.nn.functional.dropout2d`.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> y = nn.Dropout2d(0.5, generator=0)(tg.ones((1, 4, 2, 2)))
    >>> [sorted(set(y.numpy()[0, c].ravel().tolist())) for c in range(4)]
    [[2.0], [2.0], [2.0], [0.0]]
    """

    def __init__(self, p: float = 0.5, generator: GeneratorLike = None) -> None:
        super().__init__(F.check_probability("Dropout2d", p), generator)

    def forward(self, x: Any) -> Any:
        return F.dropout2d(x, self.p, self.training, self.generator)
