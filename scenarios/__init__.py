"""stressgan.scenarios: the hub. Market data, regimes, baselines, scenario packs, fidelity metrics, CLI, reports."""

__version__ = "0.1.0"
