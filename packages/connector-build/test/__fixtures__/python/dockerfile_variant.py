"""Reference implementation of the 2023 analysis notebook's `get_dockerfile_variant`.

Test fixture for src/analyze/dockerfile-variant.test.ts: the TypeScript port must give the very
ids this gives. The function body follows the notebook statement by statement, on purpose
(quirks included); only the `Connector` object is replaced by a small stand-in.

Usage: python3 -X utf8 dockerfile_variant.py < requests.json
  requests.json: [{"technical_name": "source-x", "code_directory": "/path/to/source-x"}, ...]
  prints:        [{"id": "abc1234"} | {"error": "UnicodeDecodeError: ..."}, ...]
       python3 -X utf8 dockerfile_variant.py --whitespace
  prints the code points str.strip() removes, as a JSON list.
"""

import hashlib
import json
import sys
from pathlib import Path


class FakeConnector:
    def __init__(self, technical_name, code_directory):
        self.technical_name = technical_name
        self.code_directory = Path(code_directory)


def get_dockerfile_variant(connector):
    dockerfile = Path(connector.code_directory / "Dockerfile").read_text()
    dockerfile = dockerfile.replace(connector.technical_name, "connector-technical-name")
    dockerfile = dockerfile.replace(connector.technical_name.replace("-", "_"), "connector_technical_name")
    for line in dockerfile.splitlines():
        # comment lines go, everywhere their text occurs
        if line.startswith("#"):
            dockerfile = dockerfile.replace(line, "")
        # so does the version label
        if line.startswith("LABEL io.airbyte.version"):
            dockerfile = dockerfile.replace(line, "")
    # blank lines go
    dockerfile = "\n".join([line for line in dockerfile.split("\n") if line.strip() != ""])
    # surrounding spaces go
    dockerfile = "\n".join([line.strip() for line in dockerfile.split("\n")])
    return hashlib.sha256(dockerfile.encode()).hexdigest()[:7]


def main():
    if sys.argv[1:] == ["--whitespace"]:
        print(json.dumps([cp for cp in range(0x110000) if chr(cp).isspace() and ("x" + chr(cp)).strip() == "x"]))
        return
    results = []
    for request in json.load(sys.stdin):
        connector = FakeConnector(request["technical_name"], request["code_directory"])
        try:
            results.append({"id": get_dockerfile_variant(connector)})
        except Exception as error:  # reported, as the TypeScript side reports unreadable files
            results.append({"error": f"{type(error).__name__}: {error}"})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
