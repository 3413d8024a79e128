import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overlapProblems, type PatternOwner } from '../../../src/config/overlaps.ts';
import { patternStem, patternsOverlap } from '../../../src/config/patterns.ts';

// A state-wide consortium: `systems` realms of `branches` libraries each,
// every system with its own five-digit prefix, as a regex or a prefix.
function consortium(systems: number, branches: number): PatternOwner[] {
  const libraries: PatternOwner[] = [];
  for (let s = 0; s < systems; s++) {
    const prefix = String(21000 + s);
    for (let b = 0; b < branches; b++) {
      libraries.push({
        id: `sys${s}-branch${b}`,
        realm: `sys${s}`,
        cardPatterns: [s % 2 === 0 ? prefix : `/^${prefix}[0-9]{9}$/`],
      });
    }
  }
  return libraries;
}

describe('card pattern stems', () => {
  it.each([
    ['21234', '21234'],
    ['/^21234[0-9]{9}$/', '21234'],
    ['/^2123[45]\\d{9}$/', '2123'],
    ['/^2123?4\\d+$/', '212'],
    ['/^2123*$/', '212'],
    ['/^2123{0,2}9$/', '212'],
    ['/^21+$/', '2'],
    ['/^(21|34)\\d+$/', ''],
    ['/^21\\d+|34\\d+$/', ''],
    ['/^\\d{14}$/', ''],
    ['/^D\\d{6}$/', 'D'],
  ])('%s starts every card with %j', (pattern, stem) => {
    expect(patternStem(pattern)).toBe(stem);
  });
});

describe('card patterns overlapping across realms', () => {
  it('finds nothing in a consortium of 1,000 libraries in 50 realms with distinct prefixes', () => {
    expect(overlapProblems(consortium(50, 20))).toEqual([]);
  });

  it('reports one mistake between two systems of twenty branches once, naming both libraries by id', () => {
    const libraries = consortium(50, 20);
    // The last branch of system 7 was given system 8's prefix.
    const wrong = libraries.find((l) => l.id === 'sys7-branch19') as PatternOwner;
    wrong.cardPatterns = ['21008'];
    const problems = overlapProblems(libraries);
    expect(problems).toEqual([
      'libraries[159].cardPatterns: "21008" of library "sys7-branch19" (realm "sys7") overlaps "21008" of library ' +
        '"sys8-branch0" (realm "sys8"): cards starting "21008" could belong to either realm; and 19 more pairs of ' +
        'libraries in these two realms',
    ]);
  });

  it('gives one line per pair of realms', () => {
    const problems = overlapProblems([
      { id: 'a', realm: 'r1', cardPatterns: ['2'] },
      { id: 'b', realm: 'r2', cardPatterns: ['21'] },
      { id: 'c', realm: 'r3', cardPatterns: ['/^21\\d+$/'] },
      { id: 'd', realm: 'r1', cardPatterns: ['29'] },
      { id: 'e', realm: 'r4', cardPatterns: ['/^\\d{14}$/'] },
    ]);
    const pairs = problems.map((p) => [...p.matchAll(/realm "(\w+)"/g)].map((m) => m[1]).join('-'));
    expect(pairs.sort()).toEqual(['r1-r2', 'r1-r3', 'r1-r4', 'r2-r3', 'r2-r4', 'r3-r4']);
    expect(problems.find((p) => p.includes('"r4"') && p.includes('"r3"'))).toMatch(/cards such as "21\d+"/);
  });

  it('ignores overlaps within a realm and patterns that are reported as invalid', () => {
    expect(
      overlapProblems([
        { id: 'a', realm: 'r', cardPatterns: ['2100'] },
        { id: 'b', realm: 'r', cardPatterns: ['2100'] },
        { id: 'c', realm: 's', cardPatterns: ['/^2100'] },
      ]),
    ).toEqual([]);
  });

  it('finds exactly the realm pairs that comparing every pair of patterns finds', () => {
    const pattern = fc.oneof(
      fc.stringMatching(/^[1-3]{1,4}$/),
      fc.stringMatching(/^[1-3]{0,3}$/).map((stem) => `/^${stem}[0-9]{2,6}$/`),
      fc.stringMatching(/^[1-3]{1,3}$/).map((stem) => `/^${stem}?[1-3]\\d*$/`),
      fc.constant('/^(1|2)\\d+$/'),
    );
    const library = fc.record({
      realm: fc.constantFrom('r1', 'r2', 'r3', 'r4'),
      patterns: fc.array(pattern, { minLength: 1, maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(library, { minLength: 2, maxLength: 12 }), (input) => {
        const libraries = input.map((l, i) => ({ id: `l${i}`, realm: l.realm, cardPatterns: l.patterns }));
        const expected = new Set<string>();
        libraries.forEach((a, i) => {
          for (const b of libraries.slice(i + 1)) {
            if (a.realm === b.realm) continue;
            if (a.cardPatterns.some((pa) => b.cardPatterns.some((pb) => patternsOverlap(pa, pb))))
              expected.add([a.realm, b.realm].sort().join('-'));
          }
        });
        const found = new Set(
          overlapProblems(libraries).map((p) =>
            [...p.matchAll(/realm "(\w+)"/g)]
              .map((m) => m[1])
              .sort()
              .join('-'),
          ),
        );
        expect(found).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
