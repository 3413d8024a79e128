// The Alma Users API as far as the broker uses it, written from the Ex
// Libris developer network (developers.exlibrisgroup.com/alma/apis/users):
// POST users/{id}?op=auth with Exl-User-Pw (204), GET users/{id} (400 with
// errorCode 401861 when not found), GET users/test; the API key is checked
// on every call (`Authorization: apikey …`), as the gateway does.
import { ILS_PATRONS, type IlsSimulator, type SimPatron, sameCard, startIlsHttp } from './ils-http.ts';

export const ALMA_KEY = 'l8xx-alma-test-key';

const expiryOf = (p: SimPatron) => p.expires ?? (p.state === 'expired' ? '2020-01-31' : '2099-12-31');
const primaryId = (p: SimPatron) => `alma-${p.id}`;
const errors = (status: number, code: string, message: string) => ({
  status,
  body: { errorsExist: true, errorList: { error: [{ errorCode: code, errorMessage: message }] }, result: null },
});

export async function startAlmaSimulator(
  options: { patrons?: readonly SimPatron[]; port?: number } = {},
): Promise<IlsSimulator> {
  const patrons = options.patrons ?? ILS_PATRONS;
  return startIlsHttp(
    ({ method, url, headers }) => {
      if (headers.authorization !== `apikey ${ALMA_KEY}`) return errors(400, 'INVALID_API_KEY', 'Invalid API Key');
      if (method === 'GET' && url.pathname === '/almaws/v1/users/test')
        return { status: 200, body: { value: 'GET OK' } };
      const m = /^\/almaws\/v1\/users\/([^/]+)$/.exec(url.pathname);
      if (!m) return errors(400, '402204', 'Unsupported path');
      const id = decodeURIComponent(m[1] ?? '');
      const p = patrons.find((x) => sameCard(x.card, id) || primaryId(x) === id);
      if (method === 'POST' && url.searchParams.get('op') === 'auth') {
        const pw = headers['exl-user-pw'];
        if (!p) return errors(400, '401861', `User with identifier ${id} was not found.`);
        if (p.pin === undefined || pw !== p.pin)
          return errors(400, '401652', 'General Error - An error has occurred while processing the request.');
        return { status: 204 };
      }
      if (method === 'GET') {
        if (!p) return errors(400, '401861', `User with identifier ${id} was not found.`);
        return {
          status: 200,
          body: {
            primary_id: primaryId(p),
            full_name: p.name,
            expiry_date: `${expiryOf(p)}Z`,
            status: { value: p.state === 'expired' ? 'INACTIVE' : 'ACTIVE', desc: 'Active' },
            user_identifier: [{ id_type: { value: 'BARCODE' }, value: p.card, status: 'ACTIVE' }],
            user_block:
              p.state === 'blocked-flags' ? [{ block_type: { value: 'GENERAL' }, block_status: 'ACTIVE' }] : [],
          },
        };
      }
      return errors(400, '402204', 'Unsupported operation');
    },
    options.port ? { port: options.port } : {},
  );
}
