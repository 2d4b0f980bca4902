// The last good snapshot on disk (an emptyDir in the pod), so a restarted sidecar serves at once, even
// while the operator is unreachable. It holds API keys: written 0600, atomically (temp file, fsync,
// rename), so a crash mid-write leaves the previous file, never half of a new one.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../../api/index.ts';
import { parseJson, parseSnapshot } from './snapshot-schema.ts';

const FILE = 'snapshot.json';

export interface Persisted {
  revision: number;
  snapshot: Snapshot;
}

export class SnapshotFile {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get path(): string {
    return join(this.#dir, FILE);
  }

  /** The saved snapshot, undefined when there is none; throws when the file is unreadable or invalid. */
  async read(namespace: string): Promise<Persisted | undefined> {
    let text;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const data = parseJson(text, this.path) as { revision?: unknown; snapshot?: unknown };
    const revision =
      typeof data.revision === 'number' && Number.isSafeInteger(data.revision) ? data.revision : 0;
    // The same checks as a push: a file damaged on disk must not be served.
    return { revision, snapshot: parseSnapshot(data.snapshot, namespace) };
  }

  async write(value: Persisted): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.#dir, `.${FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(value));
      await handle.sync();
    } catch (e) {
      await handle.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await handle.close();
    // The mode given to open() is filtered by the umask; make sure no one else can read the keys.
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
    await syncDir(this.#dir);
  }
}

/**
 * Writes in the background, one write at a time, in order: a snapshot that arrives while one is being
 * written waits, and replaces any other still waiting (only the newest is worth the disk). Each write
 * keeps the file's temp-fsync-rename discipline, so a failed or interrupted one leaves the last good file.
 */
export class LatestSaver {
  readonly file: SnapshotFile;
  readonly #onError: (path: string, e: unknown) => void;
  #next: Persisted | undefined;
  #running: Promise<void> | undefined;

  constructor(file: SnapshotFile, onError: (path: string, e: unknown) => void) {
    this.file = file;
    this.#onError = onError;
  }

  save(value: Persisted): void {
    this.#next = value;
    this.#running ??= this.#drain();
  }

  /** Resolves once everything saved so far is written (or has failed). */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    for (let value = this.#next; value !== undefined; value = this.#next) {
      this.#next = undefined;
      try {
        await this.file.write(value);
      } catch (e) {
        this.#onError(this.file.path, e);
      }
    }
    this.#running = undefined;
  }
}

/** Makes the rename itself durable; best effort, as some filesystems refuse to fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not fatal: the file content is already synced.
  }
}
