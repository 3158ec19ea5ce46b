/** Internal: on a class prototype + method name, the trampolines our decorators installed (outermost last). */
export const METHOD_TRAMPOLINES = '@localcloudlab/nest-redis:method-trampolines';

/** Internal: on an aspect class, the decorator metadata keys it serves. */
export const METHOD_ASPECT_KEYS = '@localcloudlab/nest-redis:method-aspect';
