from .source import SourceFleetUpgrade

__all__ = ["SourceFleetUpgrade"]
