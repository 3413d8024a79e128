// A library's authenticators, tried in order. `unknown-card` moves on to the
// next; `bad-credentials`, `blocked` and `expired` stop (the backend knew the
// card); `unavailable` moves on but is remembered, so that if nobody else
// knows the card the patron is told the truth — the system is not answering —
// instead of "unknown card".
import type { Authenticator, AuthResult, Credentials } from './authenticator.ts';

export interface ChainStep {
  authenticator: string;
  result: AuthResult;
  ms: number;
}

export interface ChainOutcome {
  result: AuthResult;
  // The authenticator whose answer is final (or the last one asked).
  authenticator: string;
  steps: ChainStep[];
}

export async function runChain(chain: readonly Authenticator[], credentials: Credentials): Promise<ChainOutcome> {
  const steps: ChainStep[] = [];
  let firstOutage: ChainStep | undefined;
  for (const authenticator of chain) {
    const started = performance.now();
    let result: AuthResult;
    try {
      result = await authenticator.authenticate(credentials);
    } catch (error) {
      // A backend that throws is a defect, but for the patron it is an outage.
      result = { kind: 'unavailable', cause: `threw: ${error instanceof Error ? error.message : String(error)}` };
    }
    const step = { authenticator: authenticator.id, result, ms: Math.round(performance.now() - started) };
    steps.push(step);
    if (result.kind === 'ok') return { result, authenticator: authenticator.id, steps };
    if (result.kind === 'unavailable') {
      firstOutage ??= step;
      continue;
    }
    if (result.reason === 'unknown-card') continue;
    return { result, authenticator: authenticator.id, steps };
  }
  const final = firstOutage ?? steps.at(-1);
  return {
    result: final?.result ?? { kind: 'unavailable', cause: 'no authenticator configured' },
    authenticator: final?.authenticator ?? '(none)',
    steps,
  };
}

// The card form a library's throttle counts under. Attempts must be counted
// before any backend is asked, so the form cannot depend on which
// authenticator will answer: it is the first one's, the library's primary
// system, which every attempt reaches (later ones only see cards it does not
// know or cannot answer for). A library whose fallback folds more than its
// first authenticator should list the folding one first.
export function canonicalCard(chain: readonly Authenticator[], card: string): string {
  return chain[0]?.canonicalCard(card) ?? card;
}
