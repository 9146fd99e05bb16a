from .source import SourceFleetTwilio

__all__ = ["SourceFleetTwilio"]
