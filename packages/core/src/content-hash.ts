import { createHash } from 'node:crypto';

/** Hash of a text, the key of the embedding cache: equal texts are embedded once. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}
