#
# Copyright (c) 2023 Airbyte, Inc., all rights reserved.
#


from .source import SourceAsofLowcode

__all__ = ["SourceAsofLowcode"]
