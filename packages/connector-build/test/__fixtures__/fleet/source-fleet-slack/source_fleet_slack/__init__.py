from .source import SourceFleetSlack

__all__ = ["SourceFleetSlack"]
