from .source import SourceFleetNotion

__all__ = ["SourceFleetNotion"]
