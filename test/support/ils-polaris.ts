// Polaris PAPI public methods as far as the broker uses them, written from
// the PAPI reference (documentation.iii.com/polaris/PAPI, 7.x):
// AuthenticatePatron, PatronCirculateBlocksGet and the API version. Every
// request's PWS signature is recomputed here from the access key, the
// method, the full URI and the PolarisDate header, which must be within 15
// minutes of the simulator's clock; otherwise 401 as PAPI answers.
import { papiSignature } from '../../src/auth/polaris/signature.ts';
import { ILS_PATRONS, type IlsSimulator, type SimPatron, sameCard, startIlsHttp } from './ils-http.ts';

export const POLARIS_KEY = { accessId: 'patronym', accessKey: 'polaris-access-key' };
export const PAPI_ROOT = '/PAPIService/REST/public/v1/1033/100/1';

export interface PolarisSimulator extends IlsSimulator {
  apiUrl: string;
  signaturesRefused(): number;
}

const patronId = (p: SimPatron) => 5000 + Number(p.id.replace(/\D/g, ''));
const expiryOf = (p: SimPatron) => p.expires ?? (p.state === 'expired' ? '2020-01-31' : '2099-12-31');
// PAPI's JSON (WCF) dates.
const wcfDate = (day: string) => `/Date(${Date.parse(`${day}T00:00:00Z`)}+0000)/`;

export async function startPolarisSimulator(
  options: { patrons?: readonly SimPatron[]; port?: number } = {},
): Promise<PolarisSimulator> {
  const patrons = options.patrons ?? ILS_PATRONS;
  const state = { refused: 0 };
  let origin = '';

  const sim = await startIlsHttp(
    ({ method, url, headers, body }) => {
      const date = String(headers.polarisdate ?? '');
      const uri = `${origin}${url.pathname}${url.search}`;
      const expected = `PWS ${POLARIS_KEY.accessId}:${papiSignature(POLARIS_KEY.accessKey, method, uri, date)}`;
      const skew = Math.abs(Date.now() - Date.parse(date));
      if (headers.authorization !== expected || !(skew < 15 * 60 * 1000)) {
        state.refused++;
        return { status: 401, headers: { 'www-authenticate': 'PWS realm="Polaris API"' } };
      }
      const path = url.pathname.startsWith(PAPI_ROOT) ? url.pathname.slice(PAPI_ROOT.length) : '';
      if (method === 'GET' && path === '/api')
        return { status: 200, body: { PAPIErrorCode: 0, ErrorMessage: '', Version: '7.5.0.0' } };
      if (method === 'POST' && path === '/authenticator/patron') {
        const { Barcode, Password } = JSON.parse(body) as { Barcode?: string; Password?: string };
        const p = patrons.find((x) => sameCard(x.card, Barcode ?? ''));
        if (!p || p.pin === undefined || p.pin !== Password)
          return {
            status: 200,
            body: { PAPIErrorCode: -3001, ErrorMessage: 'Invalid patron credentials', PatronID: 0, AccessToken: null },
          };
        return {
          status: 200,
          body: { PAPIErrorCode: 0, ErrorMessage: '', AccessToken: 'x', AccessSecret: 'x', PatronID: patronId(p) },
        };
      }
      const m = /^\/patron\/([^/]+)\/circulationblocks$/.exec(path);
      if (method === 'GET' && m) {
        const p = patrons.find((x) => sameCard(x.card, decodeURIComponent(m[1] ?? '')));
        if (!p)
          return {
            status: 200,
            body: { PAPIErrorCode: -3000, ErrorMessage: 'Patron does not exist', ValidPatron: false },
          };
        const blocked = p.state === 'blocked-flags';
        return {
          status: 200,
          body: {
            PAPIErrorCode: 0,
            ErrorMessage: '',
            Barcode: p.card,
            ValidPatron: true,
            PatronID: patronId(p),
            ExpirationDate: wcfDate(expiryOf(p)),
            Blocks: blocked ? [{ PatronID: patronId(p), BlockDescription: 'Patron account is blocked' }] : [],
            CanPatronCirculate: !blocked,
            NameFirst: p.name,
          },
        };
      }
      return { status: 404, body: 'Not found', contentType: 'text/plain' };
    },
    options.port ? { port: options.port } : {},
  );
  origin = sim.baseUrl;
  return Object.assign(sim, {
    apiUrl: `${sim.baseUrl}${PAPI_ROOT}`,
    signaturesRefused: () => state.refused,
  });
}
