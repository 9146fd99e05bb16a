"""Entrypoint that imports the source named by AIRBYTE_IMPL_MODULE / AIRBYTE_IMPL_PATH, as the
legacy CDK entrypoint did."""

import importlib
import json
import os
import sys

if __name__ == "__main__":
    module_name = os.environ.get("AIRBYTE_IMPL_MODULE")
    class_name = os.environ.get("AIRBYTE_IMPL_PATH")
    if not module_name or not class_name:
        sys.stderr.write("AIRBYTE_IMPL_MODULE and AIRBYTE_IMPL_PATH must be set\n")
        sys.exit(2)
    source = getattr(importlib.import_module(module_name), class_name)()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "spec":
        print(json.dumps(source.spec()))
    else:
        sys.stderr.write(f"unsupported command {command!r}\n")
        sys.exit(2)
