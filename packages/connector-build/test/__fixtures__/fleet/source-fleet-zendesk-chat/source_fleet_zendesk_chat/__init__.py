from .source import SourceSourceFleetZendeskChat

__all__ = ["SourceSourceFleetZendeskChat"]
