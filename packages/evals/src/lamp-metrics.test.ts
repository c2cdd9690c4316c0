import { lampMovieTags } from '@userplug/train';
import { describe, expect, it } from 'vitest';
import { classificationMetrics, generationMetrics, lampMetrics, ratingMetrics } from './lamp-metrics.js';
import { parsePythonFloat } from './python-float.js';
import { lcsLength, rougeScore, tokenizeForRouge } from './rouge-score.js';

// Test cases published with Google's rouge_score (rouge/rouge_scorer_test.py, tokenize_test.py and
// tokenizers_test.py, Apache-2.0). The two "AgainstRouge155" texts are lines 1-2 of its testdata/target.txt and
// testdata/prediction.txt; their expected scores come from ROUGE-1.5.5, as that test file states.
const rouge155Targets = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
];
const rouge155Predictions = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
];

describe('ROUGE as rouge_score computes it (no stemmer, as HF evaluate calls it)', () => {
  it('tokenizes like tokenize.tokenize', () => {
    expect(tokenizeForRouge('one Two three')).toEqual(['one', 'two', 'three']);
    expect(tokenizeForRouge('one\n Two \nthree')).toEqual(['one', 'two', 'three']);
    expect(tokenizeForRouge('this is a test')).toEqual(['this', 'is', 'a', 'test']);
    expect(tokenizeForRouge("Don't stop—café 2x!")).toEqual(['don', 't', 'stop', 'caf', '2x']);
    expect(tokenizeForRouge('/')).toEqual([]);
  });

  it('passes rouge_scorer_test: testRouge1, testRouge2, testRougeL*, testMultipleRougeTypes, testRougeEmpty', () => {
    const one = rougeScore('testing one two', 'testing');
    expect(one.rouge1.precision).toBeCloseTo(1, 12);
    expect(one.rouge1.recall).toBeCloseTo(1 / 3, 12);
    expect(one.rouge1.fmeasure).toBeCloseTo(1 / 2, 12);
    const two = rougeScore('testing one two', 'testing one');
    expect(two.rouge2.precision).toBeCloseTo(1, 12);
    expect(two.rouge2.recall).toBeCloseTo(1 / 2, 12);
    expect(two.rouge2.fmeasure).toBeCloseTo(2 / 3, 12);
    expect(two.rouge1.fmeasure).toBeCloseTo(4 / 5, 12);
    expect(two.rougeL.precision).toBeCloseTo(1, 12);
    expect(two.rougeL.recall).toBeCloseTo(2 / 3, 12);
    expect(two.rougeL.fmeasure).toBeCloseTo(4 / 5, 12);
    const gap = rougeScore('testing one two', 'testing two');
    expect(gap.rougeL.fmeasure).toBeCloseTo(4 / 5, 12);
    for (const score of Object.values(rougeScore('testing one two', ''))) {
      expect(score).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    }
  });

  it('passes rouge_scorer_test: testRouge1/2/LAgainstRouge155 (5 decimals, ROUGE-1.5.5)', () => {
    const expected = [
      {
        rouge1: [0.40741, 0.6875, 0.51163],
        rouge2: [0.30769, 0.53333, 0.39024],
        rougeL: [0.40741, 0.6875, 0.51163],
      },
      { rouge1: [0.40476, 0.65385, 0.5], rouge2: [0.29268, 0.48, 0.36364], rougeL: [0.40476, 0.65385, 0.5] },
    ];
    expected.forEach((scores, line) => {
      const result = rougeScore(rouge155Targets[line]!, rouge155Predictions[line]!);
      for (const type of ['rouge1', 'rouge2', 'rougeL'] as const) {
        const [recall, precision, fmeasure] = scores[type];
        expect(result[type].recall).toBeCloseTo(recall!, 5);
        expect(result[type].precision).toBeCloseTo(precision!, 5);
        expect(result[type].fmeasure).toBeCloseTo(fmeasure!, 5);
      }
    });
  });

  it('passes testLcsTable', () => {
    expect(lcsLength(['1', '2', '3', '4', '5'], ['2', '5', '3', '4'])).toBe(3);
    expect(lcsLength(['1', '2', '3', '4', '5'], ['8', '9'])).toBe(0);
  });

  it('averages F-measures over predictions, texts stripped as LaMP does', () => {
    const metrics = generationMetrics(
      ['heading to the beach, sun is out!  '],
      [' beach time, the sun is out'],
    );
    expect(metrics.rouge1).toBeCloseTo(50 / 65, 12);
    expect(metrics.rougeL).toBeCloseTo(32 / 52, 12);
  });
});

describe('LaMP classification and rating metrics', () => {
  it('macro-F1 averages over the full label list, unknown predictions count as misses', () => {
    const result = classificationMetrics(
      ['sci-fi', ' comedy ', 'space opera', 'sci-fi'],
      ['sci-fi', 'sci-fi', 'romance', 'sci-fi'],
      lampMovieTags,
    );
    expect(result.accuracy).toBe(0.5);
    // sci-fi: tp 2, fn 1 → F1 0.8; every other of the 15 tags scores 0.
    expect(result.f1).toBeCloseTo(0.8 / 15, 12);
    expect(result.invalid).toBe(1);
    const citation = lampMetrics(1, ['[1]', '[2]', '[1]'], ['[1]', '[1]', '[1]']);
    // [1]: tp 2, fn 1 → 0.8; [2]: fp 1 → 0.
    expect(citation).toEqual({ accuracy: 2 / 3, f1: 0.4, invalid: 0, n: 3 });
  });

  it('MAE and RMSE with the official fallback: the farther of 1 and 5 (5 on a tie)', () => {
    const result = ratingMetrics(['5', ' 3.0 ', 'four', '', '2', 'stars: 3'], ['4', '3', '2', '5', '1', '3']);
    // values 5, 3, 5 (gold 2), 1 (gold 5), 2, 5 (gold 3: tie)
    const errors = [1, 0, 3, 4, 1, 2];
    expect(result.mae).toBeCloseTo(errors.reduce((a, b) => a + b) / 6, 12);
    expect(result.rmse).toBeCloseTo(Math.sqrt(errors.reduce((a, b) => a + b * b, 0) / 6), 12);
    expect(result.invalid).toBe(3);
  });

  it("parses numbers as Python's float()", () => {
    expect(
      ['3', ' 4.5\n', '.5', '1.', '1e1', '+2', '1_000', 'inf', '-Infinity'].map(parsePythonFloat),
    ).toEqual([3, 4.5, 0.5, 1, 10, 2, 1000, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(parsePythonFloat('nan')).toBeNaN();
    expect(parsePythonFloat('٣')).toBe(3);
    expect(parsePythonFloat('４.５')).toBe(4.5);
    for (const text of ['', '3 stars', '0x10', '1__0', '_1', '1_', 'e5', '.']) {
      expect(parsePythonFloat(text)).toBeUndefined();
    }
  });
});
