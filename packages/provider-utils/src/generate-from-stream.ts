import { type GenerateResult, ProviderError, type StreamPart } from '@userplug/core';

/** `generate` for an adapter whose model streams: runs the stream to its `finish` part and returns that. */
export async function generateFromStream(
  parts: AsyncIterable<StreamPart>,
  provider: string,
): Promise<GenerateResult> {
  for await (const part of parts) {
    if (part.type === 'finish') {
      const { type: _finish, ...result } = part;
      return result;
    }
  }
  throw new ProviderError('Generation ended without a result.', { provider });
}
