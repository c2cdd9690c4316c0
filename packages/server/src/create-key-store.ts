import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileFormatError, InvalidArgumentError, StoreError } from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';

/** Settings of {@link createKeyStore}. */
export interface KeyStoreSettings {
  /**
   * The keys file (JSON, created with mode 0600 in a folder created with mode 0700). It holds only a scrypt
   * hash of each key. Default: none, keys live in memory only (tests, apps that provision keys themselves).
   */
  path?: string;
  /**
   * How often, at most, `verifyKey` looks whether the file changed (a key created or revoked by another
   * process, such as `userplug keys revoke`), in milliseconds. Default 1000.
   */
  reloadIntervalMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** scrypt cost (N, a power of two) for new keys; the cost is stored with each hash. Default 16384. */
  scryptCost?: number;
}

/** An API key as the keys file describes it; the key itself is never stored. */
export interface ApiKeyRecord {
  /** Public id of the key (16 hex digits), part of the key and safe to log. */
  id: string;
  /** The tenant whose users the key reads and writes. */
  tenant: string;
  /** When the key was created, ISO 8601. */
  createdAt: string;
  /** When the key was revoked, ISO 8601; absent while it is valid. */
  revokedAt?: string;
}

/** What `verifyKey` found. */
export type KeyVerification =
  | { status: 'valid'; keyId: string; tenant: string }
  | { status: 'revoked'; keyId: string }
  | { status: 'invalid' };

/** Creates, lists, revokes and verifies API keys. */
export interface KeyStore {
  /** The keys file, or undefined for keys kept in memory. */
  readonly path: string | undefined;
  /** Creates a key for a tenant. The returned `key` is shown once: only its hash is kept. */
  createKey(options: { tenant: string }): Promise<{ key: string; record: ApiKeyRecord }>;
  /** Every key, revoked ones included, oldest first. */
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes a key by id; requests with it then get 401. Revoking twice keeps the first date. */
  revokeKey(keyId: string): Promise<ApiKeyRecord>;
  /** Checks a presented key. Reads the file again when it changed (at most every `reloadIntervalMs`). */
  verifyKey(key: string): Promise<KeyVerification>;
}

const lockTimeoutMs = 30_000;
const staleLockMs = 60_000;
const tenantPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const keyIdPattern = /^[0-9a-f]{16}$/;
const keyPattern = /^upk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const hashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

const keysFileSchema = z.object({
  version: z.literal(1),
  keys: z.array(
    z.object({
      id: z.string().regex(keyIdPattern),
      tenant: z.string().regex(tenantPattern),
      hash: z.string().regex(hashPattern),
      createdAt: z.string(),
      revokedAt: z.string().optional(),
    }),
  ),
});

type StoredKey = z.infer<typeof keysFileSchema>['keys'][number];

/** Checks a tenant name: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export function requireTenantName(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || !tenantPattern.test(tenant)) {
    throw new InvalidArgumentError(
      'tenant',
      `Tenant name ${JSON.stringify(tenant)} is not valid: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit (for example "acme").`,
    );
  }
}

function scryptHash(secret: string, salt: Buffer, cost: number, blockSize: number, parallelism: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(
      secret,
      salt,
      32,
      { N: cost, r: blockSize, p: parallelism, maxmem: 256 * cost * blockSize + 1024 * 1024 },
      (error, hash) => (error ? reject(error) : resolve(hash)),
    ),
  );
}

async function hashKey(key: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptHash(key, salt, cost, 8, 1);
  return `scrypt$${cost}$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function matchesHash(key: string, stored: string): Promise<boolean> {
  const [, cost, blockSize, parallelism, salt, hash] = hashPattern.exec(stored)!;
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptHash(
    key,
    Buffer.from(salt!, 'base64url'),
    Number(cost),
    Number(blockSize),
    Number(parallelism),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function publicRecord(stored: StoredKey): ApiKeyRecord {
  return {
    id: stored.id,
    tenant: stored.tenant,
    createdAt: stored.createdAt,
    ...(stored.revokedAt === undefined ? {} : { revokedAt: stored.revokedAt }),
  };
}

/**
 * A key store: in a JSON file (`path`) shared with `userplug keys` and `userplug serve`, or in memory.
 * Keys look like `upk_<id>_<secret>`; the file keeps the id, the tenant and a scrypt hash of the key.
 */
export function createKeyStore(settings: KeyStoreSettings = {}): KeyStore {
  const path = settings.path;
  const now = settings.now ?? Date.now;
  const reloadIntervalMs = settings.reloadIntervalMs ?? 1000;
  const scryptCost = settings.scryptCost ?? 16_384;
  if (!Number.isInteger(Math.log2(scryptCost)) || scryptCost < 2) {
    throw new InvalidArgumentError(
      'scryptCost',
      `scryptCost must be a power of two, got ${scryptCost}. Pass e.g. 16384.`,
    );
  }
  let keys: StoredKey[] = [];
  let fileSignature = '';
  let lastCheck = Number.NEGATIVE_INFINITY;
  // Digests of keys that matched their hash, so scrypt runs once per key and process, not per request.
  let verified = new Map<string, string>();
  let writing = Promise.resolve();

  async function readKeysFile(): Promise<void> {
    if (path === undefined) return;
    let signature: string;
    try {
      const info = await stat(path);
      signature = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      signature = 'missing';
    }
    if (signature === fileSignature) return;
    let next: StoredKey[] = [];
    if (signature !== 'missing') {
      const parsed = await readJsonFile(path, {
        what: 'The keys file',
        fix: 'Restore it, or move it away and create keys again with `userplug keys create --tenant NAME`.',
      });
      const result = keysFileSchema.safeParse(parsed);
      if (!result.success) {
        const issue = result.error.issues[0]!;
        throw new FileFormatError(
          path,
          `The keys file ${path} is not a userplug keys file: ${issue.path.join('.') || 'the file'} ${issue.message}. Restore it, or move it away and create keys again.`,
          { cause: result.error },
        );
      }
      next = result.data.keys;
    }
    keys = next;
    fileSignature = signature;
    verified = new Map();
  }

  /** Takes `PATH.lock` (created exclusively), waiting while another process holds it; a lock older than a minute is stale. */
  async function lockKeysFile(): Promise<() => Promise<void>> {
    if (path === undefined) return async () => {};
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const lockPath = `${path}.lock`;
    const deadline = Date.now() + lockTimeoutMs;
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const age = await stat(lockPath).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      // A process killed while it held the lock leaves the file behind.
      if (age > staleLockMs) await rm(lockPath, { force: true });
      else if (Date.now() > deadline) {
        throw new StoreError(
          `The keys file ${path} is locked by another process (${lockPath}) for over ${lockTimeoutMs / 1000} s. Wait for the other \`userplug keys\` command, or delete ${lockPath} if none is running.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async function writeKeysFile(): Promise<void> {
    if (path === undefined) return;
    // The folder exists: lockKeysFile made it.
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      await chmod(temporary, 0o600);
      // Readers see the old file or the new one, never half of it.
      await rename(temporary, path);
    } finally {
      await rm(temporary, { force: true });
    }
    fileSignature = '';
    await readKeysFile();
  }

  // Changes run one at a time, each on the file as it is now: in this process by a queue, across processes
  // (two `userplug keys create` at once) by a lock file beside the keys file.
  function change<T>(run: () => Promise<T>): Promise<T> {
    const result = writing.then(async () => {
      const release = await lockKeysFile();
      try {
        fileSignature = '';
        await readKeysFile();
        return await run();
      } finally {
        await release();
      }
    });
    writing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  return {
    path,
    async createKey({ tenant }) {
      requireTenantName(tenant);
      return change(async () => {
        let id = randomBytes(8).toString('hex');
        while (keys.some((stored) => stored.id === id)) id = randomBytes(8).toString('hex');
        const key = `upk_${id}_${randomBytes(32).toString('base64url')}`;
        const stored: StoredKey = {
          id,
          tenant,
          hash: await hashKey(key, scryptCost),
          createdAt: new Date(now()).toISOString(),
        };
        keys = [...keys, stored];
        await writeKeysFile();
        return { key, record: publicRecord(stored) };
      });
    },
    async listKeys() {
      await writing;
      fileSignature = '';
      await readKeysFile();
      return keys.map(publicRecord);
    },
    async revokeKey(keyId) {
      return change(async () => {
        const index = keys.findIndex((stored) => stored.id === keyId);
        if (index < 0) {
          throw new InvalidArgumentError(
            'keyId',
            `No key with id "${keyId}"${path === undefined ? '' : ` in ${path}`}. List the ids with \`userplug keys list\`.`,
          );
        }
        const stored = keys[index]!;
        if (stored.revokedAt === undefined) {
          keys = keys.map((other, position) =>
            position === index ? { ...other, revokedAt: new Date(now()).toISOString() } : other,
          );
          await writeKeysFile();
        }
        return publicRecord(keys[index]!);
      });
    },
    async verifyKey(key) {
      const match = typeof key === 'string' ? keyPattern.exec(key) : null;
      if (!match) return { status: 'invalid' };
      if (now() - lastCheck >= reloadIntervalMs) {
        lastCheck = now();
        await readKeysFile();
      }
      const keyId = match[1]!;
      const stored = keys.find((candidate) => candidate.id === keyId);
      if (!stored) return { status: 'invalid' };
      const digest = createHash('sha256').update(key).digest('base64url');
      const known = verified.get(digest) === keyId;
      if (!known) {
        if (!(await matchesHash(key, stored.hash))) return { status: 'invalid' };
        verified.set(digest, keyId);
      }
      if (stored.revokedAt !== undefined) return { status: 'revoked', keyId };
      return { status: 'valid', keyId, tenant: stored.tenant };
    },
  };
}
