class SourceZendeskChat:
    def spec(self):
        return {
            "type": "SPEC",
            "spec": {
                "documentationUrl": "https://docs.airbyte.com/integrations/sources/zendesk-chat",
                "connectionSpecification": {
                    "type": "object",
                    "required": ["start_date"],
                    "properties": {"start_date": {"type": "string", "format": "date-time"}},
                },
            },
        }
