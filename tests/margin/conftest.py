"""Margin tests: make the hand-made-path helpers (margin_helpers.py) importable under importlib mode."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
