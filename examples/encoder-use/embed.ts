// Embeds three sentences with the offline default encoder and prints their cosine similarities.
// The first run converts the USE-lite TF.js weights to an ONNX graph once and caches it (about a second).
// Run: node --conditions=@userplug/source --import tsx examples/encoder-use/embed.ts
import { createUseEncoder } from '@userplug/encoder-use';

const sentences = [
  'I love hiking in the mountains',
  'Trekking up alpine trails is my favourite hobby',
  'The quarterly tax report is due on Friday',
];

const encoder = createUseEncoder();
try {
  const vectors = await encoder.encode(sentences);
  console.log(
    `${encoder.id} on ${encoder.runtime}, graph ${encoder.model?.fromCache ? 'from the cache' : 'converted now'}`,
  );
  // Vectors are unit length, so the dot product is the cosine.
  const cosine = (a: Float32Array, b: Float32Array) =>
    a.reduce((sum, value, index) => sum + value * b[index]!, 0);
  for (let first = 0; first < sentences.length; first += 1) {
    for (let second = first + 1; second < sentences.length; second += 1) {
      const similarity = cosine(vectors[first]!, vectors[second]!).toFixed(3);
      console.log(`${similarity}  "${sentences[first]}"  vs  "${sentences[second]}"`);
    }
  }
} finally {
  await encoder.dispose();
}
