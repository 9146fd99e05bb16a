from .source import SourceFleetPostgresIsh

__all__ = ["SourceFleetPostgresIsh"]
