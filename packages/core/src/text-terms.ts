const stopwordList = `a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further get got had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself
him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's like me more most
mustn't my myself no nor not now of off on once only or other ought our ours ourselves out over own really same shan't
she she'd she'll she's should shouldn't so some such than that that's the their theirs them themselves then there
there's these they they'd they'll they're they've this those through to too under until up us very was wasn't we
we'd we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's will
with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves yes yeah oh ok okay hey hi
hello thanks thank please sure well much many one two lot lots thing things something anything everything nothing
would could should might may must shall going gonna want wanted know think thought tell told say said way make made
take took see seen look looking good great nice yeah let let's maybe still even ever every back since though`;

/** Common English function words, excluded from lexical matching and phrase mining. */
export const stopwords: ReadonlySet<string> = new Set(stopwordList.split(/\s+/).filter(Boolean));

const wordPattern = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;

/** Lower-cased words of a text, apostrophes kept inside words (`don't`). */
export function words(text: string): string[] {
  return (text.toLowerCase().match(wordPattern) ?? []).map((word) => word.replace(/’/g, "'"));
}

/**
 * A light English stemmer (plural and common verb endings) so that `hike`, `hikes` and `hiking`
 * meet in the lexical index without a full Porter stemmer's surprises.
 */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  let stemmed = word.endsWith("'s") ? word.slice(0, -2) : word;
  if (stemmed.endsWith('ies') && stemmed.length > 4) return `${stemmed.slice(0, -3)}y`;
  if (stemmed.endsWith('ing') && stemmed.length > 5) stemmed = stemmed.slice(0, -3);
  else if (stemmed.endsWith('ed') && stemmed.length > 4) stemmed = stemmed.slice(0, -2);
  else if (stemmed.endsWith('es') && /(?:ss|sh|ch|x|z)es$/.test(stemmed)) stemmed = stemmed.slice(0, -2);
  else if (
    stemmed.endsWith('s') &&
    !stemmed.endsWith('ss') &&
    !stemmed.endsWith('us') &&
    stemmed.length > 3
  ) {
    stemmed = stemmed.slice(0, -1);
  }
  if (stemmed.endsWith('e') && stemmed.length > 3) stemmed = stemmed.slice(0, -1);
  // "running" → "runn" → "run"
  if (/([^aeiouslz])\1$/.test(stemmed)) stemmed = stemmed.slice(0, -1);
  return stemmed;
}

/** The terms a lexical index uses for a text: words without stopwords, stemmed. */
export function indexTerms(text: string): string[] {
  const terms: string[] = [];
  for (const word of words(text)) {
    if (stopwords.has(word)) continue;
    terms.push(stem(word));
  }
  return terms;
}
