import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashingEncoder } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLampFixture } from './lamp.fixture.js';
import { loadLamp } from './load-lamp.js';
import { runEvalCli } from './run-eval-cli.js';
import { lampLeaderboardFile, runLamp } from './run-lamp.js';

let data: string;
let scratch: string;
beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), 'userplug-lamp-data-'));
  scratch = mkdtempSync(join(tmpdir(), 'userplug-lamp-scratch-'));
  writeLampFixture(data);
});
afterAll(() => {
  rmSync(data, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('runLamp', () => {
  it('scores the majority baseline per method: BM25 finds the matching tags, no personalization does not', async () => {
    const dataset = await loadLamp({ data, task: 2, split: 'dev' });
    const none = await runLamp({ dataset, method: 'none', model: { kind: 'baseline', name: 'majority' } });
    expect(none.metrics).toEqual({ accuracy: 0.5, f1: 2 / 3 / 15, invalid: 0, n: 2 });
    expect(none.modelKind).toBe('baseline');
    expect(none.usage.calls).toBe(0);
    const bm25 = await runLamp({
      dataset,
      method: 'bm25-k',
      k: 1,
      model: { kind: 'baseline', name: 'majority' },
    });
    expect(bm25.predictions.map((prediction) => prediction.output)).toEqual(['sci-fi', 'romance']);
    expect(bm25.metrics).toEqual({ accuracy: 1, f1: 2 / 15, invalid: 0, n: 2 });
    expect(lampLeaderboardFile(bm25)).toEqual({
      task: 'LaMP_2',
      golds: [
        { id: '200', output: 'sci-fi' },
        { id: '201', output: 'romance' },
      ],
    });
  });

  it('scores ratings with recency-k and BM25-k, and ROUGE with the echo baseline', async () => {
    const ratings = await loadLamp({ data, task: 3, split: 'dev' });
    const recency = await runLamp({
      dataset: ratings,
      method: 'recency-k',
      k: 1,
      model: { kind: 'baseline', name: 'majority' },
    });
    expect(recency.metrics).toEqual({ mae: 3, rmse: Math.sqrt(10), invalid: 0, n: 2 });
    const bm25 = await runLamp({
      dataset: ratings,
      method: 'bm25-k',
      k: 1,
      model: { kind: 'baseline', name: 'majority' },
    });
    // Question 301 has 2 profile entries: rank_bm25's idf ln((2 - 1 + 0.5) / 1.5) is 0, every entry scores 0 and
    // the tie goes to the later entry (argsort()[::-1]), score 4 for gold 2; question 300 finds its score 5.
    expect(bm25.metrics).toEqual({ mae: 1, rmse: Math.sqrt(2), invalid: 0, n: 2 });
    const tweets = await loadLamp({ data, task: 7, split: 'dev' });
    const echo = await runLamp({
      dataset: tweets,
      method: 'recency-k',
      model: { kind: 'baseline', name: 'echo' },
    });
    expect(echo.metrics!.rouge1).toBeCloseTo(50 / 65, 12);
    expect(echo.metrics!.rougeL).toBeCloseTo(32 / 52, 12);
  });

  it('calls the model with a concurrency limit, counts tokens and cost, and resumes from its checkpoint', async () => {
    const dataset = await loadLamp({ data, task: 2, split: 'dev' });
    const checkpointPath = join(scratch, 'run.jsonl');
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const prompts: string[] = [];
    const failing = async (prompt: string) => {
      calls++;
      if (calls === 2) throw new Error('rate limited');
      prompts.push(prompt);
      return { text: 'sci-fi', usage: { inputTokens: 100, outputTokens: 2 } };
    };
    const model = {
      kind: 'llm' as const,
      name: 'fake',
      generate: failing,
      pricing: { inputPerMillion: 1, outputPerMillion: 4 },
    };
    await expect(
      runLamp({ dataset, method: 'recency-k', k: 2, model, checkpointPath, concurrency: 1 }),
    ).rejects.toThrow('rate limited');
    expect(readFileSync(checkpointPath, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(prompts[0]).toContain(
      'the tag for the movie: "Two friends open a bakery and fall in love." is "romance"',
    );

    const counting = async (prompt: string) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return prompt.includes('bakers') ? 'romance' : 'sci-fi';
    };
    const resumed = await runLamp({
      dataset,
      method: 'recency-k',
      k: 2,
      model: { ...model, generate: counting },
      checkpointPath,
      concurrency: 1,
    });
    expect(resumed.resumed).toBe(1);
    expect(resumed.metrics).toMatchObject({ accuracy: 1 });
    // One stored call (100 + 2 tokens, reported by the model) and one counted by the tokenizer.
    expect(resumed.usage.calls).toBe(2);
    expect(resumed.usage.inputTokens).toBeGreaterThan(100);
    expect(resumed.usage.countedBy).toBe('o200k_base');
    expect(resumed.usage.costUsd).toBeCloseTo(
      (resumed.usage.inputTokens * 1 + resumed.usage.outputTokens * 4) / 1e6,
      12,
    );
    await expect(runLamp({ dataset, method: 'recency-k', k: 3, model, checkpointPath })).rejects.toThrow(
      /other settings/,
    );

    const wide = await runLamp({
      dataset: await loadLamp({ data, task: 3, split: 'dev' }),
      method: 'none',
      model: { kind: 'llm', name: 'fake', generate: counting },
      concurrency: 2,
    });
    expect(maxInFlight).toBe(2);
    expect(wide.usage.costUsd).toBeNull();
  });

  it('builds userplug persona prompts and dense-k prompts with an encoder', async () => {
    const dataset = await loadLamp({ data, task: 2, split: 'dev' });
    const encoder = createHashingEncoder();
    const persona = await runLamp({
      dataset,
      method: 'userplug',
      k: 1,
      encoder,
      model: { kind: 'baseline', name: 'majority' },
    });
    expect(persona.prompts.meanTokens).toBeGreaterThan(60);
    expect(persona.predictions.map((prediction) => prediction.output)).toEqual(['sci-fi', 'romance']);
    const dense = await runLamp({ dataset, method: 'dense-k', k: 1, encoder });
    expect(dense.metrics).toBeNull();
    expect(dense.model).toBeNull();
    expect(dense.prompts.maxTokens).toBeGreaterThan(0);
  });
});

describe('userplug-eval lamp', () => {
  it('runs a baseline, prints JSON and writes a result; without a model it says what generation needs', async () => {
    const results = join(scratch, 'results');
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    };
    const base = ['lamp', '--data', data, '--task', '2', '--split', 'dev', '--results', results];
    expect(
      await runEvalCli([...base, '--method', 'bm25-k', '--k', '1', '--model', 'majority', '--json'], io),
    ).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      task: 'LaMP_2',
      method: 'bm25-k',
      model: 'majority',
      modelKind: 'baseline',
    });
    expect(printed.metrics).toMatchObject({ accuracy: 1 });
    expect(readdirSync(results).filter((file) => file.endsWith('.json'))).toEqual([
      'lamp-LaMP-2-dev-bm25-k-k1-majority.json',
    ]);
    expect(existsSync(join(results, 'tmp', 'lamp-LaMP-2-dev-bm25-k-k1-majority.predictions.json'))).toBe(
      true,
    );

    stdout = '';
    expect(await runEvalCli([...base, '--method', 'recency-k'], io)).toBe(0);
    expect(stdout).toMatch(/2 questions, method recency-k: prompts: mean \d+\.\d tokens/);
    expect(stdout).toContain('Nothing was scored. Generation needs a model');

    stderr = '';
    const key = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(await runEvalCli([...base, '--method', 'none', '--model', 'openai:gpt-4o-mini'], io)).toBe(1);
      expect(stderr).toMatch(/OPENAI_API_KEY/);
    } finally {
      if (key !== undefined) process.env.OPENAI_API_KEY = key;
    }
    stderr = '';
    expect(await runEvalCli(['lamp', '--data', data, '--task', '9'], io)).toBe(2);
    expect(stderr).toContain('--task must be 1-7');
    stderr = '';
    expect(await runEvalCli(['lamp', '--data', data, '--task', '4', '--split', 'train'], io)).toBe(1);
    expect(stderr).toContain('lamp download --task 4 --split train');
  });
});
