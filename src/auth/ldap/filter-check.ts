// Checks of configured filters, at start-up, so a typo is a config problem
// with a dotted path rather than an outage at the first login.
import { CARD_PLACEHOLDER } from './escape.ts';
import { type Filter, parseFilter } from './filter.ts';

const SENTINEL = 'patronymcardsentinel';

// Where the placeholder ended up: only values are escaped for it, so it
// must never land in an attribute type or a matching rule.
function placements(f: Filter): { inValue: boolean; elsewhere: boolean } {
  const names: (string | undefined)[] = [];
  const values: Buffer[] = [];
  const walk = (n: Filter): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        n.filters.forEach(walk);
        return;
      case 'not':
        walk(n.filter);
        return;
      case 'present':
        names.push(n.attribute);
        return;
      case 'substrings':
        names.push(n.attribute);
        values.push(...[n.initial, ...n.any, n.final].filter((v) => v !== undefined));
        return;
      case 'extensible':
        names.push(n.attribute, n.rule);
        values.push(n.value);
        return;
      default:
        names.push(n.attribute);
        values.push(n.value);
    }
  };
  walk(f);
  return {
    inValue: values.some((v) => v.includes(SENTINEL)),
    elsewhere: names.some((n) => n?.toLowerCase().includes(SENTINEL)),
  };
}

// Returns a problem, or undefined when the filter is fine.
export function filterProblem(filter: string, options: { needsCard: boolean }): string | undefined {
  const hasCard = filter.includes(CARD_PLACEHOLDER);
  if (options.needsCard && !hasCard) return `expected a filter containing ${CARD_PLACEHOLDER}`;
  if (!options.needsCard && hasCard) return `${CARD_PLACEHOLDER} is not allowed here`;
  let parsed: Filter;
  try {
    parsed = parseFilter(filter.split(CARD_PLACEHOLDER).join(SENTINEL));
  } catch (error) {
    return `not a valid LDAP filter (RFC 4515): ${error instanceof Error ? error.message : String(error)}`;
  }
  const where = placements(parsed);
  if (hasCard && (where.elsewhere || !where.inValue)) {
    return `${CARD_PLACEHOLDER} may only stand in a value, not in an attribute or matching rule`;
  }
  return undefined;
}
