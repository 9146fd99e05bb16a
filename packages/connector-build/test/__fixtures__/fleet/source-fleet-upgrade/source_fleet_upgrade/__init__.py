from .source import SourceSourceFleetUpgrade

__all__ = ["SourceSourceFleetUpgrade"]
