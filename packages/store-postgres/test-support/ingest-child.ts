// A separate process that ingests a synthetic history into a PostgreSQL store; tests SIGKILL it or run several at once.
import { runIngestChild } from '@userplug/store-kit/testing';
import { createPostgresStore } from '@userplug/store-postgres';

await runIngestChild((location: { url: string; schema: string }) =>
  createPostgresStore({ connectionString: location.url, schema: location.schema, maxConnections: 2 }),
);
