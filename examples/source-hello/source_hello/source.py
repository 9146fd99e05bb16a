"""A tiny Airbyte source speaking the protocol with the standard library only."""

import argparse
import json
import sys
import time

SPEC = {
    "documentationUrl": "https://docs.airbyte.com/integrations/sources/hello",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Hello Source Spec",
        "type": "object",
        "required": ["greeting"],
        "properties": {
            "greeting": {"type": "string", "title": "Greeting", "default": "hello"},
            "count": {"type": "integer", "title": "Records", "minimum": 0, "default": 3},
        },
    },
}

STREAM = {
    "name": "greetings",
    "json_schema": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "greeting": {"type": "string"}},
    },
    "supported_sync_modes": ["full_refresh"],
}


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class SourceHello:
    def spec(self):
        return {"type": "SPEC", "spec": SPEC}

    def check(self, config):
        if not isinstance(config.get("greeting"), str) or not config["greeting"]:
            return {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "greeting must be a non-empty string"}}
        return {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}}

    def discover(self, config):
        return {"type": "CATALOG", "catalog": {"streams": [STREAM]}}

    def read(self, config, catalog):
        selected = {s["stream"]["name"] for s in catalog.get("streams", [])}
        if "greetings" not in selected:
            return
        now = int(time.time() * 1000)
        for i in range(int(config.get("count", 3))):
            yield {"type": "RECORD", "record": {"stream": "greetings", "data": {"id": i, "greeting": config["greeting"]}, "emitted_at": now}}


def run(argv):
    parser = argparse.ArgumentParser(prog="source-hello")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("spec")
    for name in ("check", "discover"):
        commands.add_parser(name).add_argument("--config", required=True)
    read = commands.add_parser("read")
    read.add_argument("--config", required=True)
    read.add_argument("--catalog", required=True)
    read.add_argument("--state")
    args = parser.parse_args(argv)
    source = SourceHello()
    if args.command == "spec":
        emit(source.spec())
    elif args.command == "check":
        emit(source.check(read_json(args.config)))
    elif args.command == "discover":
        emit(source.discover(read_json(args.config)))
    else:
        for message in source.read(read_json(args.config), read_json(args.catalog)):
            emit(message)
