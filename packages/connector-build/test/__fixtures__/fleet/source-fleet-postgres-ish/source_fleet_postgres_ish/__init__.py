from .source import SourceSourceFleetPostgresIsh

__all__ = ["SourceSourceFleetPostgresIsh"]
