from setuptools import find_packages, setup

# Standard library only: installs offline.
MAIN_REQUIREMENTS = []

setup(
    name="source_hello",
    description="Example Airbyte source on the common Python build.",
    author="Airbyte",
    packages=find_packages(),
    install_requires=MAIN_REQUIREMENTS,
    package_data={"": ["*.json"]},
)
