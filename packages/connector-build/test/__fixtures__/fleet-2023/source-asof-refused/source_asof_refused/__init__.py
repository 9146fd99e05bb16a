#
# Copyright (c) 2023 Airbyte, Inc., all rights reserved.
#


from .source import SourceAsofRefused

__all__ = ["SourceAsofRefused"]
