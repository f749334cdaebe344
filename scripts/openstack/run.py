"""Runs an OpenStack console entry point whose script is not installed.

python3-nova, python3-neutron and python3-glance ship the modules but not
/usr/bin/nova-api etc. (those come with the service packages, which pull in
systemd units, libvirt and qemu).

Usage: /usr/bin/python3 run.py PROG MODULE:FUNCTION [ARGS...]
  e.g. run.py nova-api nova.cmd.api:main --config-file nova.conf
"""
import importlib
import sys

prog, target = sys.argv[1], sys.argv[2]
module, func = target.split(':')
sys.argv = [prog] + sys.argv[3:]
sys.exit(getattr(importlib.import_module(module), func)())
