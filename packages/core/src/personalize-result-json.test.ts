import { describe, expect, it } from 'vitest';
import { createHashingEncoder } from './create-hashing-encoder.js';
import { createPersonalizer } from './create-personalizer.js';
import { personalizeResultToJson } from './personalize-result-json.js';

describe('personalizeResultToJson', () => {
  it('keeps the prompt, messages, persona parts, usage and warnings, and drops the vectors', async () => {
    const personalizer = createPersonalizer({ encoder: createHashingEncoder({ dim: 64 }), budget: 120 });
    await personalizer.ingest('ana', [
      { id: 'a1', kind: 'review', text: 'Loved the quiet lakeside cabin, would book again', rating: 5 },
      { id: 'a2', kind: 'post', text: 'Baked sourdough with rye flour this weekend' },
      { id: 'a3', kind: 'purchase', text: 'A cast iron skillet for camp cooking' },
    ]);
    const result = await personalizer.personalize({ userId: 'ana', prompt: 'Plan a weekend away for me' });
    const json = personalizeResultToJson(result);

    expect(Object.keys(json)).toEqual(['prompt', 'messages', 'persona', 'usage', 'warnings']);
    expect(Object.keys(json.persona)).toEqual([
      'descriptors',
      'facts',
      'evidence',
      'attributions',
      'truncated',
    ]);
    expect(json.prompt).toBe(result.prompt);
    expect(json.messages[0]).toEqual({ role: 'system', content: result.persona.text });
    expect(json.persona.attributions.map((attribution) => attribution.itemId).sort()).toEqual([
      'a1',
      'a2',
      'a3',
    ]);
    expect(json.usage).toEqual(result.usage);
    // A JSON round trip changes nothing: no typed arrays or other non-JSON values are left.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    await personalizer.dispose();
  });
});
