import { describe, expect, it } from 'vitest';
import type { QuestionView } from '../sdk/index.js';
import { answerKeys, describeQuestion, questionOptions, typedAnswer } from './review-question.js';

const labels: QuestionView = { type: 'label', labels: ['cat', 'dog'] };
const rating: QuestionView = { type: 'rating', scale: { min: -2, max: 2, tolerance: 1 } };

describe('campaign questions in the terminal', () => {
  it('turns --question, --labels and --scale into the create request', () => {
    expect(questionOptions({ question: 'label', labels: 'cat, dog,bird' })).toEqual({
      question: 'label',
      labels: ['cat', 'dog', 'bird'],
    });
    expect(questionOptions({ scale: '1-5' })).toEqual({ question: 'rating', scale: { min: 1, max: 5 } });
    expect(questionOptions({ question: 'rating', scale: '-2..2', tolerance: '0' })).toEqual({
      question: 'rating',
      scale: { min: -2, max: 2, tolerance: 0 },
    });
    expect(questionOptions({})).toEqual({});
    expect(() => questionOptions({ scale: 'five' })).toThrow(/--scale must be MIN-MAX/);
    expect(() => questionOptions({ tolerance: '1' })).toThrow(/--tolerance goes with --scale/);
  });

  it('reads a typed answer as a label (its number or name) or a rating on the scale', () => {
    expect(typedAnswer(labels, '2')).toEqual({ label: 'dog' });
    expect(typedAnswer(labels, 'cat')).toEqual({ label: 'cat' });
    expect(typedAnswer(labels, '3')).toBeNull();
    expect(typedAnswer(labels, 'r')).toBeNull();
    expect(typedAnswer(rating, '-2')).toEqual({ rating: -2 });
    expect(typedAnswer(rating, '3')).toBeNull();
    expect(typedAnswer(rating, '')).toBeNull();
    expect(typedAnswer({ type: 'accept' }, '1')).toBeNull();
    expect(answerKeys(labels)).toBe('[1] cat [2] dog');
    expect(describeQuestion(rating)).toBe('a rating from -2 to 2, agreeing within 1 (or reject)');
  });
});
