"""stressgan.margin: a margin-engine simulator for crypto-derivatives portfolios along scenario paths.

Takes plain arrays (see :class:`margin.paths.MarketPaths`); never imports ``scenarios`` or ``gan``.
"""
