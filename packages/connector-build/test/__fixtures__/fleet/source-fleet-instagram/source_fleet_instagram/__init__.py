from .source import SourceSourceFleetInstagram

__all__ = ["SourceSourceFleetInstagram"]
