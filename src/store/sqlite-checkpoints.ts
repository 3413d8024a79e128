// Checkpoints of the broker's SQLite handle, with the log's fsync taken off
// the event loop (issue 18).
//
// In WAL mode every commit appends pages to the -wal file, and SQLite's
// automatic checkpoint (in the COMMIT that takes the log past 1,000 pages)
// first fsyncs the log, then copies its pages into the database file and
// fsyncs that. On the bench machine the log's fsync was 90% of a 26–40 ms
// checkpoint, one every hundred sign-ins or so, and the broker's one thread
// answered nobody meanwhile: 3.7% of its time at concurrency 8, more on a
// slower disk. So the handle turns the automatic checkpoint off and counts
// its commits; after CHECKPOINT_COMMITS of them, the log is fsynced
// in libuv's thread pool (fs.datasync: the event loop goes on), and then
// the same PASSIVE checkpoint runs here, as SQLite would have run it, its
// own fsync of the log finding little left to write (1.8 ms instead of 26
// for a 3,600-page log). What reaches the disk, and when a commit is
// durable (`synchronous = NORMAL`), are unchanged: the early fsync only
// writes sooner what SQLite's would have written.
//
// The -wal file holds no locks (SQLite locks the database file and the
// -shm file), so opening and closing it here cannot drop SQLite's locks.
import { open } from 'node:fs/promises';

// SQLite's own threshold is 1,000 pages; 150 commits made 700–4,100 on the
// bench (more as the tables grow), each checkpoint then 4–34 ms, mostly the
// copy's CPU. Fewer, larger checkpoints (600 commits) saved 0.02 ms of CPU
// per sign-in and made the longest pause 47 ms.
export const CHECKPOINT_COMMITS = 150;

// Pages left in the log after a checkpoint (another connection still reads
// what they replaced) from which the sysadmin hears of it: about 100 MB.
const STUCK_LOG_PAGES = 25_000;

// What a checkpoint did, in pages of the log (PRAGMA wal_checkpoint).
export interface CheckpointResult {
  log: number;
  checkpointed: number;
}

export interface CheckpointsOptions {
  walPath: string;
  // Runs a checkpoint once this handle has no transaction open.
  checkpoint: (mode: 'PASSIVE' | 'TRUNCATE') => Promise<CheckpointResult | undefined>;
  // For the sysadmin, none a loss: a failed fsync or checkpoint (the pages
  // stay in the log, the next checkpoint is tried as usual), and a log that
  // keeps growing (once when it passes stuckPages, again only after it came
  // back down).
  onWarning?: (message: string) => void;
  stuckPages?: number;
  commits?: number;
  // The early fsync of the log (tests watch it).
  sync?: (path: string) => Promise<void>;
}

export class Checkpoints {
  readonly #options: CheckpointsOptions;
  readonly #every: number;
  #commits = 0;
  #running: Promise<void> | undefined;
  #warned = false;

  constructor(options: CheckpointsOptions) {
    this.#options = options;
    this.#every = options.commits ?? CHECKPOINT_COMMITS;
  }

  // After each COMMIT of the handle.
  committed(): void {
    this.#commits += 1;
    if (this.#commits < this.#every || this.#running) return;
    this.#commits = 0;
    this.#running = this.#run('PASSIVE')
      .catch((error: unknown) =>
        this.#options.onWarning?.(
          `sqlite: checkpoint of the write-ahead log failed (${describe(error)}); nothing is lost, the log grows until one succeeds, the next is tried after ${this.#every} commits`,
        ),
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  // A checkpoint now (scrub's TRUNCATE), after the one under way if any.
  async now(mode: 'TRUNCATE'): Promise<void> {
    await this.#running;
    await this.#run(mode);
  }

  // Settles once no checkpoint is under way (before the handle closes).
  async settled(): Promise<void> {
    await this.#running;
  }

  async #run(mode: 'PASSIVE' | 'TRUNCATE'): Promise<void> {
    await (this.#options.sync ?? syncLog)(this.#options.walPath).catch((error: unknown) =>
      this.#options.onWarning?.(
        `sqlite: early fsync of the write-ahead log failed (${describe(error)}); checkpointing anyway`,
      ),
    );
    const result = await this.#options.checkpoint(mode);
    if (result) this.#watch(result);
  }

  // A reader (a backup, an open sqlite3 shell) on an old state of the file
  // keeps the pages after it in the log: no checkpoint can copy them, and
  // the log grows on disk until that reader ends.
  #watch({ log, checkpointed }: CheckpointResult): void {
    const stuck = log - checkpointed;
    const limit = this.#options.stuckPages ?? STUCK_LOG_PAGES;
    if (stuck < limit) {
      if (stuck < limit / 2) this.#warned = false;
      return;
    }
    if (this.#warned) return;
    this.#warned = true;
    this.#options.onWarning?.(
      `sqlite: ${stuck} pages of the write-ahead log (${this.#options.walPath}) cannot be copied into the database file: another connection is still reading an older state of it (a backup, an open sqlite3 shell?); the log grows until that reader ends`,
    );
  }
}

const describe = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));

// fdatasync of the log, in libuv's thread pool. No log (none written yet,
// or removed when the last handle closed): nothing to write.
async function syncLog(path: string): Promise<void> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
}
