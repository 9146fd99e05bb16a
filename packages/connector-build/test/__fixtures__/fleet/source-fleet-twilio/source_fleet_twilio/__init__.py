from .source import SourceSourceFleetTwilio

__all__ = ["SourceSourceFleetTwilio"]
