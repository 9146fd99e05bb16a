from .source import SourceTicketsDeclarative

__all__ = ["SourceTicketsDeclarative"]
