"""Renders a ${VAR} template from the environment: render.py TEMPLATE OUT.

A variable missing from the environment is an error.
"""
import os
import string
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    text = string.Template(f.read()).substitute(os.environ)
with open(dst, 'w') as f:
    f.write(text)
