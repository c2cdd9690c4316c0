import { describe, expect, it } from 'vitest';
import type { ChatTokenizer } from './chat-tokenizer.js';
import { createTextStreamer } from './text-streamer.js';

/** Token i decodes to pieces[i]; "?!" is the two bytes of "é", a lone trailing "?" an unfinished character. */
function fakeTokenizer(pieces: string[]): ChatTokenizer {
  return {
    decode: (ids: readonly number[]) => {
      const text = ids.map((id) => pieces[id]!).join('');
      return text.replace(/\?!/g, 'é').replace(/\?$/, '\uFFFD');
    },
  } as unknown as ChatTokenizer;
}

function run(pieces: string[], stops: string[]) {
  const streamer = createTextStreamer(fakeTokenizer(pieces), stops);
  const deltas: string[] = [];
  let stopped = false;
  for (let id = 0; id < pieces.length && !stopped; id++) {
    const step = streamer.push(id);
    if (step.delta) deltas.push(step.delta);
    stopped = step.stopped;
  }
  const rest = streamer.finish();
  if (rest) deltas.push(rest);
  return { deltas, text: streamer.text, stopped, tokens: streamer.tokenCount };
}

describe('createTextStreamer', () => {
  it('ends before a stop sequence split across tokens and never shows its start', () => {
    const result = run(['Hello', ' wor', 'ld. ', 'EN', 'D here', ' more'], ['END']);
    expect(result.text).toBe('Hello world. ');
    expect(result.deltas.join('')).toBe(result.text);
    expect(result.deltas.some((delta) => delta.includes('E'))).toBe(false);
    expect(result.stopped).toBe(true);
    expect(result.tokens).toBe(5);
  });

  it('holds back an unfinished character until it completes', () => {
    const result = run(['caf', '?', '!', ' au lait'], []);
    expect(result.deltas).toEqual(['caf', 'é', ' au lait']);
    expect(result.text).toBe('café au lait');
  });

  it('flushes held-back text at the end', () => {
    const result = run(['It is E', 'N'], ['END']);
    expect(result.deltas).toEqual(['It is ', 'EN']);
    expect(result.stopped).toBe(false);
  });

  it('picks the earliest of several stop sequences', () => {
    expect(run(['a', 'b', 'c', 'd', 'e'], ['de', 'bc']).text).toBe('a');
  });
});
