#
# Copyright (c) 2023 Airbyte, Inc., all rights reserved.
#


from .source import SourceAsofPython

__all__ = ["SourceAsofPython"]
