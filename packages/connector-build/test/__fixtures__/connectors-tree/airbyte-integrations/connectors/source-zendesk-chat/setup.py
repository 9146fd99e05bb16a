from setuptools import setup

setup(name='source_zendesk_chat')
