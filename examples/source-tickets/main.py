import sys

from airbyte_cdk.entrypoint import launch
from source_tickets import SourceTickets

if __name__ == "__main__":
    launch(SourceTickets(), sys.argv[1:])
