// The one reach into ldapjs's private state (auth/ldap/bind-controls.ts): it
// works with the installed ldapjs, and an ldapjs without it is refused with a
// code, never run silently degraded (a locked account would read as a wrong PIN).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ldapClientSelfCheck, watchBindResponses } from '../../../../src/auth/ldap/bind-controls.ts';

describe('ldapjs bind response controls', () => {
  it('the start-up self-check passes with the installed ldapjs', async () => {
    await expect(ldapClientSelfCheck()).resolves.toBeUndefined();
  });

  it('refuses a client without the parser it reads', () => {
    for (const client of [{}, { _tracker: null }, { _tracker: { parser: {} } }, null]) {
      expect(() => watchBindResponses(client, () => {})).toThrow(
        expect.objectContaining({ code: 'ldap_client_unsupported' }),
      );
    }
  });

  it('hands over the controls of bind responses only, before later listeners', () => {
    const parser = new EventEmitter();
    const seen: string[] = [];
    parser.on('message', () => seen.push('ldapjs'));
    watchBindResponses({ _tracker: { parser } }, (controls) => seen.push(`bind:${controls.length}`));
    parser.emit('message', { type: 'SearchResultDone', controls: [{ type: 'x' }] });
    parser.emit('message', {
      type: 'BindResponse',
      controls: [{ type: '1.3.6.1.4.1.42.2.27.8.5.1', value: { error: 1 } }],
    });
    expect(seen).toEqual(['ldapjs', 'bind:1', 'ldapjs']);
  });
});
