import sys

from airbyte_cdk.entrypoint import launch

from .source import SourceTickets


def run() -> None:
    launch(SourceTickets(), sys.argv[1:])
