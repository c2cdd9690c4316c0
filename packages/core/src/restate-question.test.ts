import { describe, expect, it } from 'vitest';
import { restateQuestion } from './restate-question.js';

describe('restateQuestion', () => {
  it('drops the question form and keeps what the answer would be about', () => {
    expect(restateQuestion('Which city do I currently live in?')).toBe('city I currently live in');
    expect(restateQuestion('What are my drink preferences?')).toBe('my drink preferences');
    expect(restateQuestion('Where did I go to school?')).toBe('I go to school');
    expect(restateQuestion('How do you like your coffee?')).toBe('you like your coffee');
  });

  it('leaves statements, and questions that are only question words, alone', () => {
    expect(restateQuestion('Suggest a weekend plan for me')).toBeUndefined();
    expect(restateQuestion('What?')).toBeUndefined();
  });
});
