import type { ServerResponse } from 'node:http';

/** Answers with a JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Answers with server-sent events, each already framed (`data: …\n\n`), then ends the stream. */
export function sendEvents(
  response: ServerResponse,
  events: readonly string[],
  headers: Record<string, string> = {},
): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
  for (const event of events) response.write(event);
  response.end();
}

/** Starts a stream of server-sent events and never finishes it: for tests that abort mid-answer. */
export function holdEvents(response: ServerResponse, events: readonly string[] = []): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) response.write(event);
}
