from setuptools import setup

setup(name='source_instagram')
