// The three forms of an interaction (sign-in, walk-in, consent) share one
// check (oidc/interaction/flow.ts): a form counts only at its own prompt and
// with its own token for this very interaction. The e2e tests post each form
// the right way; this table posts each the wrong ways.
import { errors as oidcErrors } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { type Details, type FormName, formFields } from '../../../src/oidc/interaction/flow.ts';
import { createCsrf } from '../../../src/security/csrf.ts';

const csrf = createCsrf('interaction forms test secret');
// Only uid and prompt.name are read; the rest of oidc-provider's
// interaction does not matter to the check.
const at = (prompt: string, uid = 'uid-1') => ({ uid, prompt: { name: prompt } }) as unknown as Details;
const FORMS: [FormName, string][] = [
  ['login', 'login'],
  ['walk-in', 'login'],
  ['consent', 'consent'],
];

describe('an interaction form', () => {
  it.each(FORMS)('%s: accepted at the %s prompt with its own token, fields intact', (name, prompt) => {
    const body = { csrf: csrf.token(name, 'uid-1'), card: '21234000000001' };
    expect(formFields(csrf, at(prompt), name, body)).toEqual(body);
  });

  it.each(FORMS)(
    '%s: refused at another prompt, with another form’s token, another interaction’s, or none',
    (name, prompt) => {
      const refused = (d: Details, body: unknown) => {
        let thrown: unknown;
        try {
          formFields(csrf, d, name, body);
        } catch (error) {
          thrown = error;
        }
        // oidc-provider's error: a 400 page, its message the OAuth code.
        expect(thrown).toBeInstanceOf(oidcErrors.SessionNotFound);
        expect((thrown as InstanceType<typeof oidcErrors.SessionNotFound>).error_description).toBe(
          `${name} form does not belong to this interaction`,
        );
      };
      const own = { csrf: csrf.token(name, 'uid-1') };
      refused(at(prompt === 'login' ? 'consent' : 'login'), own);
      for (const other of FORMS.map(([n]) => n).filter((n) => n !== name)) {
        refused(at(prompt), { csrf: csrf.token(other, 'uid-1') });
      }
      refused(at(prompt, 'uid-2'), own);
      refused(at(prompt), {});
      refused(at(prompt), undefined);
    },
  );
});
