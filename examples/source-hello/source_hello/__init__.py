from .source import SourceHello

__all__ = ["SourceHello"]
