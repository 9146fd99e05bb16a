from setuptools import find_packages, setup

# Standard library only: installs without a package index.
MAIN_REQUIREMENTS = []

setup(
    name="source_fleet_upgrade",
    description="Fleet Upgrade: a fleet connector of the migration tests.",
    author="Airbyte",
    packages=find_packages(),
    install_requires=MAIN_REQUIREMENTS,
)
