"""The experiments behind the pages' arguments: one module per argument, each returning data.

Torch and the compute layer only (no matplotlib): a figure module draws what these return, and the
pages quote their numbers through the "numbers" figure kind, so a page cannot disagree with them.

- :mod:`~optimessay.experiments.invariance`: which optimizers are invariant to rotations and which
  to per-coordinate rescaling, and steps-to-tolerance against the valley's angle (the θ-crossing).
- :mod:`~optimessay.experiments.momentum`: the optimal heavy ball against gradient descent,
  measured rates, and what momentum does to directions.
- :mod:`~optimessay.experiments.cold_start`: RMSprop's un-bias-corrected first steps, separated
  from its memory and from the valley's orientation (banana, straightened banana, saddle).
- :mod:`~optimessay.experiments.curvature`: when √v tracks curvature (squared gradients, the Fisher
  and Gauss–Newton matrices) and Adam as sign descent.
- :mod:`~optimessay.experiments.races`: the races of the site, tuned by :mod:`optimessay.protocol`.
"""
