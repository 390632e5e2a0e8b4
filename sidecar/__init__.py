"""SeedCore sidecar: ML judgement next to Prometheus and Alertmanager.

Importing the package has no side effects; the heavy parts (Ray, statsmodels,
scikit-learn) load only in the modules that need them.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
