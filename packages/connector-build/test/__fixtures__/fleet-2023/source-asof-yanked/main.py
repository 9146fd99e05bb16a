#
# Copyright (c) 2023 Airbyte, Inc., all rights reserved.
#


import sys

from airbyte_cdk.entrypoint import launch
from source_asof_yanked import SourceAsofYanked

if __name__ == "__main__":
    source = SourceAsofYanked()
    launch(source, sys.argv[1:])
