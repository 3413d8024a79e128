// Read at load time (src/config/resources.ts), as for the other kinds: the
// CA file of an ILS API becomes its PEM text, so a missing or unreadable
// file is reported with every other configuration problem in one pass.
// Secrets (`{ env }`, `{ file }`) are resolved by the loader itself.
import { type ResourceContext, readPem } from '../../config/resources.ts';
import type { HttpOptions } from './options.ts';

export function httpResources<O extends HttpOptions>(o: O, context: ResourceContext): O {
  const ca = o.tls?.ca;
  if (!o.tls || ca === undefined) return o;
  return {
    ...o,
    tls: { ...o.tls, ca: readPem(ca, context, ['tls', 'ca'], 'the CA certificate(s) (PEM) of the ILS API') },
  };
}
