from setuptools import setup

setup(name='source_facebook_pages')
