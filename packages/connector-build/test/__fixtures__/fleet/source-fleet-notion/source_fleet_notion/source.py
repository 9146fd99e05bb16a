"""Fleet Notion: answers spec with the standard library only."""

import json
import sys


class SourceFleetNotion:
    def spec(self):
        return {
            "type": "SPEC",
            "spec": {
                "documentationUrl": "https://docs.airbyte.com/integrations/sources/fleet-notion",
                "connectionSpecification": {
                    "type": "object",
                    "title": "Fleet Notion Spec",
                    "required": ["api_key"],
                    "properties": {"api_key": {"type": "string", "airbyte_secret": True}},
                },
            },
        }


def run(args):
    if args[:1] == ["spec"]:
        sys.stdout.write(json.dumps(SourceFleetNotion().spec()) + "\n")
        return
    sys.stderr.write(f"unsupported command {args!r}\n")
    sys.exit(2)
