import { describe, expect, it } from 'vitest';
import { cutIntoPieces, splitIntoPieces } from './split-into-pieces.js';

const chat = [
  'Conversation between Anna Berg and Ben Cole on Monday 14 October 2024 at 7:44 AM',
  'Anna Berg: Hey Ben, how was the weekend?',
  'Ben Cole: Great, we went sailing on the lake with my cousins',
  'Anna Berg: Nice! I spent mine at the library, as usual.',
  'Ben Cole: Sounds like you. Still on the medieval history book?',
].join('\n');

describe('cutIntoPieces', () => {
  it('cuts a transcript into messages and embeds them without speaker labels or heading', () => {
    const pieces = cutIntoPieces(chat, { maxWords: 76 });
    expect(pieces.map((piece) => piece.content)).toEqual([
      'Hey Ben, how was the weekend?',
      'Great, we went sailing on the lake with my cousins',
      'Nice! I spent mine at the library, as usual.',
      'Sounds like you. Still on the medieval history book?',
    ]);
    expect(pieces[1]!.text).toBe('Ben Cole: Great, we went sailing on the lake with my cousins');
    expect(splitIntoPieces(chat, { maxWords: 76 })).toEqual(pieces.map((piece) => piece.text));
  });

  it('embeds each statement of a long message on its own, short sentences joined to a neighbour', () => {
    const pieces = cutIntoPieces(
      [
        'Anna Berg: Long day. The weather has been perfect for cozy reading here in Cambridge. Do you read much these days?',
        'Ben Cole: Not really, mostly podcasts on the train to work',
        'Anna Berg: Fair enough',
      ].join('\n'),
      { maxWords: 76 },
    );
    expect(pieces.map((piece) => piece.content)).toEqual([
      'Long day. The weather has been perfect for cozy reading here in Cambridge.',
      'Do you read much these days?',
      'Not really, mostly podcasts on the train to work\nFair enough',
    ]);
    expect(pieces[1]!.text).toBe('Anna Berg: Do you read much these days?');
  });

  it('keeps unlabelled lines with the message they continue', () => {
    const pieces = cutIntoPieces(
      'user: my list for the trip is long:\n- tent\n- stove and fuel\nassistant: Here is what I would add to it\nuser: thanks, that helps a lot',
      { maxWords: 76, minWords: 3 },
    );
    expect(pieces[0]!.content).toBe('my list for the trip is long:\n- tent\n- stove and fuel');
    expect(pieces).toHaveLength(3);
  });

  it('joins a short reply to the message before it', () => {
    const pieces = cutIntoPieces(
      'Anna: I just got back from climbing in Kalymnos\nBen: ok\nAnna: next year deep water soloing in Mallorca',
      { maxWords: 20, minWords: 4 },
    );
    expect(pieces.map((piece) => piece.content)).toEqual([
      'I just got back from climbing in Kalymnos\nok',
      'next year deep water soloing in Mallorca',
    ]);
    expect(pieces[0]!.text).toContain('Ben: ok');
  });

  it('does not read a list of titled lines as a chat', () => {
    const list = [
      'Kindle Paperwhite: a reader with a warm light',
      'Desk lamp: a lamp for the study',
      'Hiking boots: waterproof, size 42',
    ].join('\n');
    expect(cutIntoPieces(list, { maxWords: 76 })).toEqual([{ text: list, content: list }]);
  });

  it('cuts a long message at sentence ends and labels every part', () => {
    const long = Array.from({ length: 12 }, (_, index) => `Sentence number ${index} is here.`).join(' ');
    const pieces = cutIntoPieces(`A: ${long}\nB: short answer to that\nA: fine`, { maxWords: 20 });
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) expect(piece.content.split(/\s+/).length).toBeLessThanOrEqual(20);
    expect(pieces[0]!.text.startsWith('A: Sentence number 0')).toBe(true);
    expect(pieces[1]!.text.startsWith('A: ')).toBe(true);
  });
});
