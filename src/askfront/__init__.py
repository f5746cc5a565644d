"""askfront: answers questions about a folder of articles, every claim cited."""

__version__ = "0.1.0"
