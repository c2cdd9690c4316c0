import { describe, expect, it } from 'vitest';
import { restateQuestion } from './restate-question.js';

describe('restateQuestion', () => {
  it('drops the question form and keeps what the answer would be about', () => {
    expect(restateQuestion('Which bakery do I usually visit on Sundays?')).toBe(
      'bakery I usually visit on Sundays',
    );
    expect(restateQuestion('What are my favourite board games?')).toBe('my favourite board games');
    expect(restateQuestion('Where did I learn to swim?')).toBe('I learn to swim');
    expect(restateQuestion('How do you like your coffee?')).toBe('you like your coffee');
  });

  it('leaves statements, and questions that are only question words, alone', () => {
    expect(restateQuestion('Suggest a weekend plan for me')).toBeUndefined();
    expect(restateQuestion('What?')).toBeUndefined();
  });
});
