import { stopwords, words } from './text-terms.js';

/** A key phrase found in a user's own history. */
export interface PhraseCandidate {
  /** The phrase, lower-cased, as it appears in the history. */
  phrase: string;
  /** How many of the user's items contain it. */
  itemCount: number;
}

/** Settings of {@link minePhrases}. */
export interface MinePhrasesSettings {
  /** Most phrases returned. Default 96. */
  limit?: number;
  /** Longest phrase, in words. Default 3. */
  maxWords?: number;
  /**
   * Shortest phrase, in words. Default 2: a single word torn from its sentence ("bought", "lentil") does not say
   * anything about the user on its own.
   */
  minWords?: number;
}

// Words too generic to describe anyone, on top of the stopwords.
const genericWords = new Set(
  `time times day days today tomorrow yesterday week weeks year years people person someone everyone anyone guy guys
  right kind sort bit part new old first last next little big long best better lot whole able sounds sound feel feels
  felt love loved glad happy hope hoped fun cool awesome amazing definitely absolutely totally probably actually
  always never often usually sometimes also already yet around need needs use used using try trying tried come came
  give gave find found keep kept put puts start started work works worked help helps helped ask asked talk talking
  exciting excited fascinating interesting interested incredible wonderful fantastic lovely perfect terrible awful
  busy pretty quite super stuff plans idea ideas exactly literally basically honestly seriously especially recently
  lately haha wow`.split(/\s+/),
);

const clauseBoundary = /[.,;:!?()[\]{}"“”\n\r\t|/\\]+/u;

function isContentWord(word: string): boolean {
  return word.length >= 3 && !stopwords.has(word) && !genericWords.has(word) && /\p{L}/u.test(word);
}

/**
 * Mines key phrases (runs of two to three content words inside a clause) from a user's items,
 * ranked by how many items contain them, longer phrases preferred.
 */
export function minePhrases(texts: readonly string[], settings: MinePhrasesSettings = {}): PhraseCandidate[] {
  const limit = settings.limit ?? 96;
  const maxWords = settings.maxWords ?? 3;
  const minWords = Math.max(1, Math.min(settings.minWords ?? 2, maxWords));
  const counts = new Map<string, number>();
  for (const text of texts) {
    const seen = new Set<string>();
    for (const clause of text.split(clauseBoundary)) {
      const clauseWords = words(clause);
      let run: string[] = [];
      const flush = () => {
        for (let start = 0; start < run.length; start++) {
          for (let length = minWords; length <= maxWords && start + length <= run.length; length++) {
            seen.add(run.slice(start, start + length).join(' '));
          }
        }
        run = [];
      };
      for (const word of clauseWords) {
        if (isContentWord(word)) run.push(word);
        else flush();
      }
      flush();
    }
    for (const phrase of seen) counts.set(phrase, (counts.get(phrase) ?? 0) + 1);
  }
  const minimumCount = texts.length >= 20 ? 2 : 1;
  const ranked = [...counts]
    // A multi-word run seen once is usually an accident of wording, not a phrase.
    .filter(([phrase, count]) => count >= (phrase.includes(' ') ? Math.max(2, minimumCount) : minimumCount))
    .map(([phrase, itemCount]) => ({
      phrase,
      itemCount,
      score: itemCount * (1 + 0.5 * (phrase.split(' ').length - 1)),
    }))
    .sort((left, right) => right.score - left.score || (left.phrase < right.phrase ? -1 : 1));
  const kept: PhraseCandidate[] = [];
  for (const candidate of ranked) {
    if (kept.length >= limit) break;
    // Skip a phrase that a kept longer phrase already covers almost every time it occurs.
    const covered = kept.some(
      (longer) =>
        ` ${longer.phrase} `.includes(` ${candidate.phrase} `) &&
        longer.itemCount >= 0.8 * candidate.itemCount,
    );
    if (!covered) kept.push({ phrase: candidate.phrase, itemCount: candidate.itemCount });
  }
  return kept;
}
