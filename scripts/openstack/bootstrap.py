"""Fills one freshly started cloud through its REST APIs (keystoneauth1).

Usage: /usr/bin/python3 bootstrap.py PHASE   (settings come from the
environment, see ENV below; scripts/clouds sets them)

  catalog    services and endpoints for image, placement, compute, network;
             project + user with the member role
  wait-nova  waits until nova-conductor, -scheduler and -compute are up and
             the compute node has a resource provider in placement
  resources  flavors, the test image (deterministic bytes), the external
             network with its subnet, the user's private network, subnet and
             router, the default security group. Prints KEY=VALUE lines.
"""
import hashlib
import os
import sys
import time
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

ENV = os.environ
C = ENV['CLOUD']                      # a or b
HOST = 'http://127.0.0.1'
KS = '%s:%s/v3' % (HOST, ENV['KEYSTONE_PORT'])
GLANCE = '%s:%s' % (HOST, ENV['GLANCE_PORT'])
PLACEMENT = '%s:%s' % (HOST, ENV['PLACEMENT_PORT'])
NOVA = '%s:%s/v2.1' % (HOST, ENV['NOVA_PORT'])
NEUTRON = '%s:%s' % (HOST, ENV['NEUTRON_PORT'])
REGION = 'RegionOne'
PROJECT, USER, PASSWORD = ENV['OS_PROJECT'], ENV['OS_USER'], ENV['OS_PASSWORD']
ADMIN_PASSWORD = ENV['ADMIN_PASSWORD']
TIMEOUT = float(ENV.get('READY_TIMEOUT', '240'))

# The same image id and bytes on both clouds: tests may compare them.
IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, 'catena:test-image'))
IMAGE_NAME = 'catena-test-image'
IMAGE_SIZE = 4 * 1024 * 1024
FLAVORS = [  # name, id, vcpus, ram MB, disk GB
    ('m1.tiny', '1', 1, 512, 1),
    ('m1.small', '2', 1, 2048, 20),
]
# Documentation ranges (RFC 5737): these networks are database records only,
# no packet ever goes there.
EXT_CIDR = {'a': '203.0.113', 'b': '198.51.100'}[C]
PRIVATE_CIDR = '192.0.2'


def log(msg):
    print('[%s] %s' % (C, msg), file=sys.stderr, flush=True)


def session(username, password, project):
    auth = v3.Password(auth_url=KS, username=username, password=password,
                       project_name=project, user_domain_name='Default',
                       project_domain_name='Default')
    return ks_session.Session(auth=auth)


def admin():
    return session('admin', ADMIN_PASSWORD, 'admin')


def first(items, what):
    if not items:
        raise SystemExit('%s: not found' % what)
    return items[0]


def catalog():
    s = admin()
    services = {
        'glance': ('image', GLANCE),
        'placement': ('placement', PLACEMENT),
        'nova': ('compute', NOVA),
        'neutron': ('network', NEUTRON),
    }
    have = {x['type'] for x in s.get(KS + '/services').json()['services']}
    for name, (stype, url) in services.items():
        if stype in have:
            continue
        sid = s.post(KS + '/services', json={'service': {
            'name': name, 'type': stype, 'enabled': True}}).json()['service']['id']
        for iface in ('public', 'internal'):
            s.post(KS + '/endpoints', json={'endpoint': {
                'service_id': sid, 'interface': iface, 'url': url,
                'region_id': REGION, 'enabled': True}})
    # "service": keystonemiddleware requires it of X-Service-Token (the
    # services authenticate as admin).
    roles = s.get(KS + '/roles?name=service').json()['roles']
    srid = roles[0]['id'] if roles else s.post(KS + '/roles', json={
        'role': {'name': 'service'}}).json()['role']['id']
    adm = s.get(KS + '/users?name=admin').json()['users'][0]['id']
    aprj = s.get(KS + '/projects?name=admin').json()['projects'][0]['id']
    s.put('%s/projects/%s/users/%s/roles/%s' % (KS, aprj, adm, srid))
    pid = s.post(KS + '/projects', json={'project': {
        'name': PROJECT, 'domain_id': 'default',
        'description': 'Catena tests'}}).json()['project']['id']
    uid = s.post(KS + '/users', json={'user': {
        'name': USER, 'domain_id': 'default', 'password': PASSWORD,
        'default_project_id': pid}}).json()['user']['id']
    rid = first(s.get(KS + '/roles?name=member').json()['roles'],
                'role member')['id']
    s.put('%s/projects/%s/users/%s/roles/%s' % (KS, pid, uid, rid))
    log('catalog, project %s, user %s (member)' % (PROJECT, USER))


def wait_nova():
    s = admin()
    deadline = time.time() + TIMEOUT
    want = {'nova-conductor', 'nova-scheduler', 'nova-compute'}
    while True:
        try:
            svcs = s.get(NOVA + '/os-services').json()['services']
            up = {x['binary'] for x in svcs if x['state'] == 'up'}
            rps = s.get(PLACEMENT + '/resource_providers',
                        headers={'OpenStack-API-Version': 'placement 1.14'}
                        ).json()['resource_providers']
            if want <= up and rps:
                log('nova services up: %s; %d resource provider(s)'
                    % (', '.join(sorted(up)), len(rps)))
                return
            state = 'up: %s, resource providers: %d' % (sorted(up), len(rps))
        except (ks_exc.ClientException, KeyError) as e:
            state = repr(e)
        if time.time() > deadline:
            raise SystemExit('nova services not ready after %ds (%s)'
                             % (TIMEOUT, state))
        time.sleep(1)


def image_bytes():
    """IMAGE_SIZE deterministic bytes: SHA-256 of a counter, repeated."""
    out = bytearray()
    i = 0
    while len(out) < IMAGE_SIZE:
        out += hashlib.sha256(b'catena-test-image %d' % i).digest()
        i += 1
    return bytes(out[:IMAGE_SIZE])


def wait_for(what, probe, timeout=60):
    deadline = time.time() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.time() > deadline:
            raise SystemExit('timed out waiting for %s' % what)
        time.sleep(0.5)


def resources():
    s = admin()
    out = {}

    # Flavors (public).
    for name, fid, vcpus, ram, disk in FLAVORS:
        s.post(NOVA + '/flavors', json={'flavor': {
            'name': name, 'id': fid, 'vcpus': vcpus, 'ram': ram,
            'disk': disk}})
    out['FLAVORS'] = ' '.join(f[0] for f in FLAVORS)

    # The test image: public, raw/bare, deterministic bytes.
    data = image_bytes()
    s.post(GLANCE + '/v2/images', json={
        'id': IMAGE_ID, 'name': IMAGE_NAME, 'disk_format': 'raw',
        'container_format': 'bare', 'visibility': 'public'})
    s.put('%s/v2/images/%s/file' % (GLANCE, IMAGE_ID), data=data,
          headers={'Content-Type': 'application/octet-stream'})
    img = wait_for('image active', lambda: (
        lambda i: i if i['status'] == 'active' else None)(
            s.get('%s/v2/images/%s' % (GLANCE, IMAGE_ID)).json()))
    if img['checksum'] != hashlib.md5(data).hexdigest():
        raise SystemExit('image checksum mismatch')
    out.update(IMAGE_ID=IMAGE_ID, IMAGE_NAME=IMAGE_NAME,
               IMAGE_SIZE=img['size'], IMAGE_CHECKSUM=img['checksum'])

    # External flat network with a floating IP range (admin).
    net = s.post(NEUTRON + '/v2.0/networks', json={'network': {
        'name': 'public', 'router:external': True, 'shared': False,
        'provider:network_type': 'flat',
        'provider:physical_network': 'physnet1'}}).json()['network']
    s.post(NEUTRON + '/v2.0/subnets', json={'subnet': {
        'network_id': net['id'], 'name': 'public-subnet', 'ip_version': 4,
        'cidr': EXT_CIDR + '.0/24', 'gateway_ip': EXT_CIDR + '.1',
        'enable_dhcp': False,
        'allocation_pools': [{'start': EXT_CIDR + '.100',
                              'end': EXT_CIDR + '.200'}]}})
    out.update(EXT_NET='public', EXT_NET_ID=net['id'])

    # The user's own private network, subnet and router (as the user).
    u = session(USER, PASSWORD, PROJECT)
    pnet = u.post(NEUTRON + '/v2.0/networks', json={'network': {
        'name': 'private'}}).json()['network']
    psub = u.post(NEUTRON + '/v2.0/subnets', json={'subnet': {
        'network_id': pnet['id'], 'name': 'private-subnet', 'ip_version': 4,
        'cidr': PRIVATE_CIDR + '.0/24', 'gateway_ip': PRIVATE_CIDR + '.1'}}
                  ).json()['subnet']
    router = u.post(NEUTRON + '/v2.0/routers', json={'router': {
        'name': 'router',
        'external_gateway_info': {'network_id': net['id']}}}
                    ).json()['router']
    u.put('%s/v2.0/routers/%s/add_router_interface' % (NEUTRON, router['id']),
          json={'subnet_id': psub['id']})
    # Listing creates the project's default security group.
    sgs = u.get(NEUTRON + '/v2.0/security-groups?name=default').json()
    first(sgs['security_groups'], 'default security group')
    out.update(PRIVATE_NET='private', PRIVATE_NET_ID=pnet['id'],
               ROUTER_ID=router['id'])

    for k, v in out.items():
        print('%s=%s' % (k, v))
    log('flavors %s, image %s, networks public + private, router'
        % (out['FLAVORS'], IMAGE_ID))


PHASES = {'catalog': catalog, 'wait-nova': wait_nova, 'resources': resources}

if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in PHASES:
        raise SystemExit(__doc__)
    PHASES[sys.argv[1]]()
