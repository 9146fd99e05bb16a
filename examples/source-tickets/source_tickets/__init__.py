from .source import SourceTickets

__all__ = ["SourceTickets"]
