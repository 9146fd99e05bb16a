from .source import SourceFleetPoetry

__all__ = ["SourceFleetPoetry"]
