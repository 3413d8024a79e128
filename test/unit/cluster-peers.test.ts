// Under workers, a worker that misses a record asks the others (through the
// primary) to write what they hold (src/cluster.ts, store/sqlite.ts). Misses
// that come while a question is in flight share one follow-up question,
// asked after the first is answered: never more than one in flight, and no
// miss is answered by a question asked before it.
import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/cluster.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('workers: questions for held records', () => {
  it('asks once for the misses that come while a question is in flight, after it is answered', async () => {
    const asks: (() => void)[] = [];
    const flush = coalesce(() => new Promise<void>((resolve) => asks.push(resolve)));
    const first = flush();
    let answered = 0;
    const during = Array.from({ length: 200 }, () => flush().then(() => answered++));
    expect(asks).toHaveLength(1);
    asks[0]?.();
    await first;
    await turn();
    // The follow-up is asked now, and only its answer settles them.
    expect(asks).toHaveLength(2);
    expect(answered).toBe(0);
    asks[1]?.();
    await Promise.all(during);
    expect(answered).toBe(200);
    // Nothing in flight: the next miss asks at once.
    const later = flush();
    expect(asks).toHaveLength(3);
    asks[2]?.();
    await later;
  });

  it('a failed question fails its asker only; the misses behind it get a question of their own', async () => {
    const asks: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const flush = coalesce(() => new Promise<void>((resolve, reject) => asks.push({ resolve, reject })));
    const first = flush();
    const behind = flush();
    asks[0]?.reject(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    await turn();
    expect(asks).toHaveLength(2);
    asks[1]?.resolve();
    await behind;
    const later = flush();
    expect(asks).toHaveLength(3);
    asks[2]?.resolve();
    await later;
  });
});
