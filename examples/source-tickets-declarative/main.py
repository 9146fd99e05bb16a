import sys

from airbyte_cdk.entrypoint import launch
from source_tickets_declarative import SourceTicketsDeclarative

if __name__ == "__main__":
    launch(SourceTicketsDeclarative(), sys.argv[1:])
