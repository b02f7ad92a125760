"""The parity operator for Python kopf: the same handlers as parity.rs."""
import kopf


@kopf.on.create('ephemeralvolumeclaims')
def create_fn(spec, **_):
    return {'message': 'created', 'size': spec.get('size')}


@kopf.on.update('ephemeralvolumeclaims')
def update_fn(diff, logger, **_):
    logger.info(f"update_fn got the diff: {diff!r}")


@kopf.on.field('ephemeralvolumeclaims', field='spec.size')
def size_fn(old, new, **_):
    return {'old': old, 'new': new}


@kopf.on.delete('ephemeralvolumeclaims')
def delete_fn(**_):
    pass
