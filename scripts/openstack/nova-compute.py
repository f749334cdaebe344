"""nova-compute with scripts/openstack/catenafake.py as nova.virt.catenafake.

Usage: /usr/bin/python3 nova-compute.py --config-file nova.conf
"""
import os
import sys

# nova.cmd monkey-patches eventlet on import: it has to come first.
import nova.cmd.compute  # noqa: E402
import nova.virt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catenafake  # noqa: E402

sys.modules['nova.virt.catenafake'] = catenafake
nova.virt.catenafake = catenafake

sys.argv[0] = 'nova-compute'
sys.exit(nova.cmd.compute.main())
