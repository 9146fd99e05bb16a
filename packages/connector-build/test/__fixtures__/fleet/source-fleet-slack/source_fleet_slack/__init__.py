from .source import SourceSourceFleetSlack

__all__ = ["SourceSourceFleetSlack"]
