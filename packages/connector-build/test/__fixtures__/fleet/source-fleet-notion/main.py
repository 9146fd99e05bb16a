import sys

from source_fleet_notion.source import run

if __name__ == "__main__":
    run(sys.argv[1:])
