#
# Copyright (c) 2023 Airbyte, Inc., all rights reserved.
#


from .source import SourceAsofYanked

__all__ = ["SourceAsofYanked"]
