/**
 * A store by its location: a local data directory (a path, or file://), or a cluster URL.
 * Everything above storage addresses collections through the Store this returns.
 */
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../errors.js';
import { LocalStore } from './local/local-store.js';
import type { Store } from './port.js';

export function openStore(location: string): Store {
  if (/^opensearch:\/\//i.test(location) || /^https?:\/\//i.test(location)) {
    throw new InvalidInputError(`store ${JSON.stringify(location.replace(/\/\/[^@/]*@/, '//***@'))}: the OpenSearch backend is not part of this build yet; use a local data directory`, { field: 'store' });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    throw new InvalidInputError(`store ${JSON.stringify(location)}: unknown scheme (use a folder path, file://, or opensearch://host:port)`, { field: 'store' });
  }
  return new LocalStore(location.startsWith('file://') ? fileURLToPath(location) : location);
}
