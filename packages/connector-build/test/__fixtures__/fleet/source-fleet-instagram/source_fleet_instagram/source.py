"""Fleet Instagram: answers spec with the standard library only."""

import json
import sys


class SourceFleetInstagram:
    def spec(self):
        return {
            "type": "SPEC",
            "spec": {
                "documentationUrl": "https://docs.airbyte.com/integrations/sources/fleet-instagram",
                "connectionSpecification": {
                    "type": "object",
                    "title": "Fleet Instagram Spec",
                    "required": ["api_key"],
                    "properties": {"api_key": {"type": "string", "airbyte_secret": True}},
                },
            },
        }


def run(args):
    if args[:1] == ["spec"]:
        sys.stdout.write(json.dumps(SourceFleetInstagram().spec()) + "\n")
        return
    sys.stderr.write(f"unsupported command {args!r}\n")
    sys.exit(2)
