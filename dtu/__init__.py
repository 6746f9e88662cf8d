"""The Digital Twin Universe core: everything two twins would otherwise write twice."""

__version__ = "0.1.0"
