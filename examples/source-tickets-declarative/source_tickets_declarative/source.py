"""A low-code source: everything is in manifest.yaml, run by the CDK's declarative source."""

from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource


class SourceTicketsDeclarative(YamlDeclarativeSource):
    def __init__(self) -> None:
        super().__init__(path_to_yaml="manifest.yaml")
