import sys

from source_hello.source import run

if __name__ == "__main__":
    run(sys.argv[1:])
