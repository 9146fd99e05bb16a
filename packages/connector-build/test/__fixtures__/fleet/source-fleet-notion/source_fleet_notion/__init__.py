from .source import SourceSourceFleetNotion

__all__ = ["SourceSourceFleetNotion"]
