"""Nova's fake virt driver, with snapshots that carry the image's bytes.

nova.virt.fake.FakeDriver.snapshot() only moves the task state: the image
record that createImage made stays "queued" with no data. Here snapshot()
copies the bytes of the server's base image into the snapshot image through
Nova's image API (as the requesting user), so createImage yields an ACTIVE
image byte-identical to the base image (same size, checksum, os_hash).

Nova (Zed) loads compute drivers from nova.virt only: nova-compute.py
(beside this file) registers this module as nova.virt.catenafake, and
nova.conf says compute_driver = catenafake.CatenaFakeDriver.
"""
import os
import tempfile

from nova.compute import task_states
from nova import exception
from nova.image import glance
from nova.virt import fake
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class CatenaFakeDriver(fake.FakeDriver):

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only)
        self._image_api = glance.API()

    def snapshot(self, context, instance, image_id, update_task_state):
        if instance.uuid not in self.instances:
            raise exception.InstanceNotRunning(instance_id=instance.uuid)
        base = instance.image_meta
        metadata = {
            'disk_format': (base.disk_format
                            if base.obj_attr_is_set('disk_format') else 'raw'),
            'container_format': (base.container_format
                                 if base.obj_attr_is_set('container_format')
                                 else 'bare'),
            'properties': {'image_location': 'snapshot',
                           'image_state': 'available',
                           'owner_id': instance.project_id},
        }
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        fd, path = tempfile.mkstemp(prefix='snapshot-',
                                    dir=self._snapshot_dir())
        os.close(fd)
        try:
            # The base image's bytes, as the user who asked for the snapshot.
            self._image_api.download(context, instance.image_ref,
                                     dest_path=path)
            update_task_state(task_state=task_states.IMAGE_UPLOADING,
                              expected_state=task_states.IMAGE_PENDING_UPLOAD)
            with open(path, 'rb') as data:
                self._image_api.update(context, image_id, metadata, data,
                                       purge_props=False)
        finally:
            os.unlink(path)
        LOG.info('Snapshot %s of %s: copied the bytes of image %s',
                 image_id, instance.uuid, instance.image_ref)

    @staticmethod
    def _snapshot_dir():
        from nova import conf
        d = os.path.join(conf.CONF.instances_path, 'snapshots')
        os.makedirs(d, exist_ok=True)
        return d
