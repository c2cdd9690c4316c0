import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import { StoreError } from '@userplug/core';
import { openCliStore, resolveStorePath, storeOptionHelp } from './cli-store.js';

export const forgetUsage = `Usage: userplug forget --user ID [options]

Erases everything the local store holds for one user (items, vectors, cached personas, trained
per-user state), reads the store again to check that nothing of the user is left, and prints what
was erased. Other users are not touched. Loads no model.

Options:
  --user ID            User id. Required.
${storeOptionHelp}
  --json               Print the report { userId, itemsDeleted, otherDeleted, verified, store } as JSON.
  -h, --help           Show this help.
`;

/** \`userplug forget\`. */
export async function forgetCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      store: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.user === undefined || values.user.length === 0) throw new UsageError('--user ID is required.');
  const path = resolveStorePath(values.store);
  const store = await openCliStore(path, { mustExist: true });
  try {
    const report = await store.forget(values.user);
    if (!report.verified) {
      throw new StoreError(
        `Erased user "${values.user}" in ${path}, but reading the store again still found rows of that user. ` +
          'Another process may have written them meanwhile: stop it and run `userplug forget` again.',
        { userId: values.user },
      );
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...report, store: path }, null, 2)}\n`);
      return;
    }
    const labels: Record<string, string> = {
      vectors: 'vector rows',
      cachedValues: 'cached values',
      userState: 'state entries',
    };
    const rank = (kind: string) => (kind in labels ? Object.keys(labels).indexOf(kind) : 99);
    const other = Object.entries(report.otherDeleted)
      .sort(([left], [right]) => rank(left) - rank(right))
      .map(([kind, count]) => `${count} ${labels[kind] ?? kind}`)
      .join(', ');
    io.stdout.write(
      report.itemsDeleted + Object.values(report.otherDeleted).reduce((sum, count) => sum + count, 0) === 0
        ? `User "${values.user}" had nothing stored in ${path}.\n`
        : `Forgot user "${values.user}" in ${path}: ${report.itemsDeleted} items${other ? `, ${other}` : ''} erased. ` +
            'Verified: nothing of this user is left.\n',
    );
  } finally {
    await store.close();
  }
}
