from .source import SourceSourceFleetPoetry

__all__ = ["SourceSourceFleetPoetry"]
