import type { Encoder } from '@userplug/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The service's Prometheus metrics, in a registry of its own (two servers in one process never mix). */
export function createServerMetrics(requestsInFlight: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'userplug_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'userplug_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its response, by method and route template.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    inFlight: new Gauge({
      name: 'userplug_http_requests_in_flight',
      help: 'API requests working on the store or encoder (what a shutdown waits for).',
      registers,
      collect() {
        this.set(requestsInFlight());
      },
    }),
    ingestedItems: new Counter({
      name: 'userplug_ingested_items_total',
      help: 'History items received by ingest, by outcome (inserted, updated, unchanged).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    encoderQueue: new Gauge({
      name: 'userplug_encoder_queue',
      help: 'Encoder calls waiting or running (ingests and personalizations embedding texts).',
      registers,
    }),
    encodedTexts: new Counter({
      name: 'userplug_encoded_texts_total',
      help: 'Texts sent to the encoder (history items, phrases and prompts).',
      registers,
    }),
  };
}

/** The server's metrics. */
export type ServerMetrics = ReturnType<typeof createServerMetrics>;

/** The encoder, counting its calls in the metrics; the encoder itself stays the caller's to dispose. */
export function countEncoderCalls(encoder: Encoder, metrics: ServerMetrics): Encoder {
  const counted =
    (embed: (texts: readonly string[]) => Promise<Float32Array[]>) =>
    async (texts: readonly string[]): Promise<Float32Array[]> => {
      metrics.encoderQueue.inc();
      metrics.encodedTexts.inc(texts.length);
      try {
        return await embed(texts);
      } finally {
        metrics.encoderQueue.dec();
      }
    };
  const encodeQueries = encoder.encodeQueries;
  return {
    id: encoder.id,
    dim: encoder.dim,
    ...(encoder.maxInputTokens === undefined ? {} : { maxInputTokens: encoder.maxInputTokens }),
    encode: counted((texts) => encoder.encode(texts)),
    ...(encodeQueries === undefined
      ? {}
      : { encodeQueries: counted((texts) => encodeQueries.call(encoder, texts)) }),
    dispose() {},
  };
}
