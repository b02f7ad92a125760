"""Sub-handlers for Python kopf: the same handlers as subhandlers.rs."""
import kopf


@kopf.on.create('kopfexamples')
def create_fn(spec, **_):
    for item in spec.get('items', []):

        @kopf.subhandler(id=item)
        def create_item_fn(retry, logger, item=item, **_):
            logger.info(f"=== {item} retry={retry}")
            if item == 'item2' and retry == 0:
                raise kopf.TemporaryError("not yet", delay=5)
            return {'item': item}

    return {'message': 'all items'}
