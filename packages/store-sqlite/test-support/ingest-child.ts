// A separate process that ingests a synthetic history into a SQLite store; tests SIGKILL it or run several at once.
import { runIngestChild } from '@userplug/store-kit/testing';
import { createSqliteStore } from '@userplug/store-sqlite';

await runIngestChild((path: string) => createSqliteStore({ path, busyTimeoutMs: 30_000 }));
