/** Settings of a per-key rate limit: a token bucket per API key. */
export interface RateLimitSettings {
  /** Requests a key may make per second, sustained. */
  requestsPerSecond: number;
  /** Requests a key may make at once after being idle (the bucket's size). Default: 2 × requestsPerSecond. */
  burst?: number;
}

/** Whether a request may go on, or how long its key must wait. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A token bucket per key, on an injected clock (milliseconds). */
export function createRateLimiter(settings: RateLimitSettings, now: () => number) {
  const rate = settings.requestsPerSecond;
  const burst = settings.burst ?? Math.max(1, 2 * rate);
  if (!(rate > 0) || !(burst >= 1)) {
    throw new RangeError(
      `rateLimit needs requestsPerSecond > 0 and burst ≥ 1, got ${rate} and ${burst}. Pass rateLimit: false for no limit.`,
    );
  }
  const buckets = new Map<string, { tokens: number; updated: number }>();
  return {
    take(key: string): RateDecision {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: burst, updated: time };
      bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.updated) / 1000) * rate);
      bucket.updated = time;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
    },
  };
}
