from .source import SourceZendeskChat

__all__ = ["SourceZendeskChat"]
