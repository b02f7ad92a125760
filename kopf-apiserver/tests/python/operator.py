"""A small Python kopf operator: the compatibility probe for the embedded API server.

Run by `tests/python_kopf.rs` with `kopf run --standalone -A --verbose operator.py`.
"""
import kopf


@kopf.on.create('kopf.dev', 'v1', 'kopfexamples')
def create_fn(spec, name, logger, **_):
    logger.info(f"Creating {name} with field={spec.get('field')!r}")
    return {'message': f"created with {spec.get('field')}"}


@kopf.on.update('kopf.dev', 'v1', 'kopfexamples')
def update_fn(old, new, diff, logger, **_):
    logger.info(f"Updated: field {old['spec'].get('field')!r} -> {new['spec'].get('field')!r}")
    return {'message': f"updated to {new['spec'].get('field')}"}


@kopf.on.delete('kopf.dev', 'v1', 'kopfexamples')
def delete_fn(name, logger, **_):
    logger.info(f"Deleting {name}")
