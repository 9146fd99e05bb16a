"""Fleet Slack: answers spec with the standard library only."""

import json
import sys


class SourceFleetSlack:
    def spec(self):
        return {
            "type": "SPEC",
            "spec": {
                "documentationUrl": "https://docs.airbyte.com/integrations/sources/fleet-slack",
                "connectionSpecification": {
                    "type": "object",
                    "title": "Fleet Slack Spec",
                    "required": ["api_key"],
                    "properties": {"api_key": {"type": "string", "airbyte_secret": True}},
                },
            },
        }


def run(args):
    if args[:1] == ["spec"]:
        sys.stdout.write(json.dumps(SourceFleetSlack().spec()) + "\n")
        return
    sys.stderr.write(f"unsupported command {args!r}\n")
    sys.exit(2)
