from setuptools import find_packages, setup

setup(
    name="source_zendesk_chat",
    description="Example Airbyte source whose entrypoint is chosen by environment variables.",
    author="Airbyte",
    packages=find_packages(),
    install_requires=[],
)
