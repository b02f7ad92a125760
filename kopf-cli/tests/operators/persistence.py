"""The persistence operator for Python kopf: the same settings and handlers as persistence.rs.

PERSISTENCE_MODE=status: progress in `status.my-op.progress`, the diff-base in annotations
under `my-op.example.com`; PERSISTENCE_MODE=smart: progress in annotations under
`my-op.example.com`, the diff-base in `status.my-op.diffbase`. While HANDOVER_FAIL is set,
create_b fails temporarily.
"""
import os

import kopf

PREFIX = 'my-op.example.com'


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.persistence.finalizer = f'{PREFIX}/finalizer'
    if os.environ.get('PERSISTENCE_MODE') == 'smart':
        settings.persistence.progress_storage = kopf.SmartProgressStorage(prefix=PREFIX)
        settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(field='status.my-op.diffbase')
    else:
        settings.persistence.progress_storage = kopf.StatusProgressStorage(field='status.my-op.progress')
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=PREFIX)


@kopf.on.create('ephemeralvolumeclaims')
def create_a(**_):
    return {'a': 1}


@kopf.on.create('ephemeralvolumeclaims')
def create_b(**_):
    if os.environ.get('HANDOVER_FAIL'):
        raise kopf.TemporaryError('not yet', delay=3)
    return {'b': 2}


@kopf.on.delete('ephemeralvolumeclaims')
def delete_fn(**_):
    pass
