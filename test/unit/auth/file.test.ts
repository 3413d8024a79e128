import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileAuthenticator } from '../../../src/auth/file/file-authenticator.ts';
import { hashPin, verifyPin } from '../../../src/auth/file/pin-hash.ts';
import { writeDemoPatrons } from '../../../src/cli/commands/demo.ts';
import { authenticatorSuite } from '../../conformance/authenticator.suite.ts';
import { CONFORMANCE_CARDS } from '../../conformance/cards.ts';

const pepper = Buffer.alloc(32, 7);
const dir = mkdtempSync(join(tmpdir(), 'patronym-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

authenticatorSuite('file', async () => {
  const path = join(dir, 'patrons.yaml');
  await writeDemoPatrons(path, pepper);
  const make = (p: string) => new FileAuthenticator('test-file', { path: p }, { pinPepper: pepper });
  const authenticator = make(path);
  return {
    authenticator,
    fixture: CONFORMANCE_CARDS,
    unreachable: async () => {
      const gone = join(dir, 'gone.yaml');
      await writeDemoPatrons(gone, pepper);
      const a = make(gone);
      rmSync(gone);
      return a;
    },
  };
});

describe('file authenticator details', () => {
  it('pins the PIN hash to the pepper', async () => {
    const hash = await hashPin(pepper, '1234');
    expect(hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    expect(hash).not.toContain('1234');
    expect(await verifyPin(pepper, '1234', hash)).toBe(true);
    expect(await verifyPin(Buffer.alloc(32, 8), '1234', hash)).toBe(false);
    expect(await verifyPin(pepper, '1234', 'not a hash')).toBe(false);
  });

  it('blocked and expired are only revealed with the right PIN', async () => {
    const path = join(dir, 'p2.yaml');
    await writeDemoPatrons(path, pepper);
    const a = new FileAuthenticator('f', { path }, { pinPepper: pepper });
    expect(await a.authenticate({ card: '21234000000003', pin: '0000' })).toMatchObject({ reason: 'bad-credentials' });
    expect(await a.authenticate({ card: '21234000000004', pin: '0000' })).toMatchObject({ reason: 'bad-credentials' });
  });

  it('expires a card at the end of its expiry day', async () => {
    const path = join(dir, 'p3.yaml');
    await writeDemoPatrons(path, pepper);
    const at = (iso: string) => new FileAuthenticator('f', { path }, { pinPepper: pepper, now: () => Date.parse(iso) });
    const card = { card: '21234000000004', pin: '4567' };
    expect((await at('2024-12-31T23:00:00Z').authenticate(card)).kind).toBe('ok');
    expect(await at('2025-01-01T00:00:00Z').authenticate(card)).toMatchObject({ reason: 'expired' });
  });

  it('refuses a broken patron file with a message that names no card', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'patrons:\n  - card: "21234000000009"\n    id: x\n    pin: "1234"\n');
    expect(() => new FileAuthenticator('f', { path }, { pinPepper: pepper })).toThrow(/patrons\.0\.pin: a PIN hash/);
    try {
      new FileAuthenticator('f', { path }, { pinPepper: pepper });
    } catch (error) {
      expect((error as Error).message).not.toContain('21234000000009');
    }
  });

  it('picks up a changed file without a restart', async () => {
    const path = join(dir, 'p4.yaml');
    await writeDemoPatrons(path, pepper);
    const a = new FileAuthenticator('f', { path }, { pinPepper: pepper });
    expect((await a.authenticate({ card: '21234000000001', pin: '1234' })).kind).toBe('ok');
    rmSync(path);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path, 'patrons: []\n');
    expect(await a.authenticate({ card: '21234000000001', pin: '1234' })).toMatchObject({ reason: 'unknown-card' });
  });
});
