import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a {@link startRecordingServer} server received, its JSON body parsed. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** True once the client closed the connection before the answer was complete (an aborted request). */
  closedByClient: boolean;
}

/** A running recording server. */
export interface RecordingServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** Every request so far, in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const running = new Set<RecordingServer>();

/**
 * A real HTTP server on 127.0.0.1 (a free port) for provider wire-format tests: it records each
 * request and lets `answer` reply, with every request so far at hand.
 */
export async function startRecordingServer(
  answer: (request: RecordedRequest, response: ServerResponse, requests: readonly RecordedRequest[]) => void,
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        closedByClient: false,
      };
      response.on('close', () => {
        if (!response.writableEnded) recorded.closedByClient = true;
      });
      requests.push(recorded);
      answer(recorded, response, requests);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const recording: RecordingServer = {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        running.delete(recording);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  running.add(recording);
  return recording;
}

/** Closes every server started and not yet closed (call it in `afterEach`). */
export async function closeRecordingServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.close()));
}
