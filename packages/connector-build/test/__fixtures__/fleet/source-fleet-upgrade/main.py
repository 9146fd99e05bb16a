import sys

from source_fleet_upgrade.source import run

if __name__ == "__main__":
    run(sys.argv[1:])
