// The AA comparison: folded enough for the echoes real servers send, never
// so far that two different card numbers become one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { echoNamesCard } from '../../../../src/auth/sip2/echo.ts';
import { mangleEcho } from '../../../support/sip2-server.ts';

describe('sip2 AA echo', () => {
  it.each([
    ['jorg', 'jörg', true], // ASCII account, known card
    ['JÖRG', 'jörg', true],
    ['mÃ¼ller', 'müller', true], // double-encoded
    ['2123 4000-0000 01', '21234000000001', true],
    ['２１２３４', '21234', true], // full width
    ['mA?ller', 'müller', false], // mangled beyond repair: only BL=N may use it
    ['21234000000002', '21234000000001', false],
    ['', '21234000000001', false],
  ])('%j names %j: %s', (echo, card, same) => {
    expect(echoNamesCard(echo, card)).toBe(same);
  });

  it('every echo of the simulator’s known-card modes names the card', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }), (card) => {
        fc.pre(card.trim() !== '' && !/[\s-]/.test(card));
        expect(echoNamesCard(card, card)).toBe(true);
        expect(echoNamesCard(mangleEcho('double-encoded', card, false), card)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never makes two different card numbers one', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-Z]{4,16}$/), fc.stringMatching(/^[0-9A-Z]{4,16}$/), (a, b) => {
        fc.pre(a !== b);
        expect(echoNamesCard(a, b)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
