import json
import sys

from greeting import WORD

if __name__ == "__main__" and sys.argv[1:2] == ["spec"]:
    print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object", "description": WORD}}}))
