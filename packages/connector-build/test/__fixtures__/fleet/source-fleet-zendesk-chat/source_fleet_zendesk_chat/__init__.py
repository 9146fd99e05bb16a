from .source import SourceFleetZendeskChat

__all__ = ["SourceFleetZendeskChat"]
