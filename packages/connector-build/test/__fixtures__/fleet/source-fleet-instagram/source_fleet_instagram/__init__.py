from .source import SourceFleetInstagram

__all__ = ["SourceFleetInstagram"]
