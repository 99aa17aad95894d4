"""The package version (core: any layer may import it; ``sentimon.__version__`` re-exports it)."""

__version__ = "0.1.0"
