"""stressgan.gan: a conditional time-series GAN library (windows -> generator/critic -> Lightning -> sampler).

Knows nothing about markets, packs or margin: it learns ``target[H, C]`` given ``context[L, C]``,
a regime class and a severity in [0, 1]. ``scenarios`` decides what the channels mean.
"""
