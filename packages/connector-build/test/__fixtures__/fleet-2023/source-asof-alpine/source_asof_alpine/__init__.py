#
# Copyright (c) 2023 Airbyte, Inc., all rights reserved.
#


from .source import SourceAsofAlpine

__all__ = ["SourceAsofAlpine"]
