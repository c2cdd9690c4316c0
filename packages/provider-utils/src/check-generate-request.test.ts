import { type GenerateRequest, InvalidArgumentError } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { checkGenerateRequest, unsupportedSettingWarnings } from './check-generate-request.js';

function failure(request: unknown): InvalidArgumentError {
  try {
    checkGenerateRequest(request as GenerateRequest);
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the request passed');
}

describe('checkGenerateRequest', () => {
  it('normalises stop sequences, turns and tools', () => {
    const tool = { name: 'weather', inputSchema: { type: 'object' } };
    expect(
      checkGenerateRequest({
        userId: 'ana',
        prompt: 'Hi',
        stop: 'END',
        tools: [tool],
        toolChoice: { type: 'tool', toolName: 'weather' },
      }),
    ).toMatchObject({ stop: ['END'], messages: [], tools: [tool] });
    expect(checkGenerateRequest({ userId: 'ana', prompt: '' })).toMatchObject({
      stop: [],
      messages: [],
      tools: [],
    });
  });

  it.each([
    [{ userId: '' }, 'userId', 'userId must be a non-empty string'],
    [{ prompt: undefined }, 'prompt', 'prompt must be a string'],
    [{ budget: 1.5 }, 'budget', 'budget must be a whole number ≥ 0 (tokens), got 1.5.'],
    [
      { maxOutputTokens: 0 },
      'maxOutputTokens',
      'maxOutputTokens must be a whole number ≥ 1 (tokens), got 0.',
    ],
    [{ temperature: -1 }, 'temperature', 'temperature must be a number in [0, ∞), got -1.'],
    [{ topP: 1.5 }, 'topP', 'topP must be a number in (0, 1], got 1.5.'],
    [{ topK: 0 }, 'topK', 'topK must be a whole number ≥ 1, got 0.'],
    [{ seed: 0.5 }, 'seed', 'seed must be a whole number'],
    [{ stop: ['END', ''] }, 'stop', 'stop[1] must be a non-empty string'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages', 'messages[0] must be'],
    [
      {
        tools: [
          { name: 'a', inputSchema: {} },
          { name: 'a', inputSchema: {} },
        ],
      },
      'tools',
      '"a" is used twice',
    ],
    [{ tools: [{ name: 'a' }] }, 'tools', 'needs `inputSchema`'],
    [{ toolChoice: 'always' }, 'toolChoice', "toolChoice must be 'auto', 'none', 'required'"],
    [{ responseFormat: { type: 'xml' } }, 'responseFormat', 'responseFormat must be'],
    [{ providerOptions: 'fast' }, 'providerOptions', 'keyed by provider id'],
  ])('refuses %j, naming %s', (fields, argument, message) => {
    const error = failure({ userId: 'ana', prompt: 'Hi', ...fields });
    expect(error.argument).toBe(argument);
    expect(error.message).toContain(message);
  });
});

describe('unsupportedSettingWarnings', () => {
  it('warns about the fields a request sets, a JSON response format but not a text one', () => {
    const request: GenerateRequest = {
      userId: 'ana',
      prompt: 'Hi',
      seed: 1,
      tools: [],
      responseFormat: { type: 'json' },
    };
    expect(unsupportedSettingWarnings(request, ['seed', 'topK', 'tools', 'responseFormat'], 'Acme')).toEqual([
      {
        type: 'unsupported-setting',
        setting: 'seed',
        message: 'Acme does not support `seed`; the call went on without it.',
      },
      {
        type: 'unsupported-setting',
        setting: 'responseFormat',
        message: 'Acme does not support `responseFormat`; the call went on without it.',
      },
    ]);
    expect(
      unsupportedSettingWarnings(
        { ...request, responseFormat: { type: 'text' } },
        ['responseFormat'],
        'Acme',
      ),
    ).toEqual([]);
  });
});
