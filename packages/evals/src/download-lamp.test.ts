import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError } from './download-error.js';
import { downloadLamp } from './download-lamp.js';
import { writeLampFixture } from './lamp.fixture.js';
import { loadLamp } from './load-lamp.js';
import { runEvalCli } from './run-eval-cli.js';

let served: string;
let server: Server;
let baseUrl: string;
let requests: { path: string; range: string | undefined }[] = [];
/** Per path: bytes after which the first response is cut (connection destroyed). */
let breakAfter = new Map<string, number>();
let failPaths = new Map<string, number>();

beforeAll(async () => {
  served = mkdtempSync(join(tmpdir(), 'userplug-lamp-served-'));
  writeLampFixture(served);
  writeLampFixture(served, { timeBased: true });
  // A file that is not JSON, to test the integrity check.
  mkdirSync(join(served, 'LaMP_4', 'train'), { recursive: true });
  writeFileSync(
    join(served, 'LaMP_4', 'train', 'train_questions.json'),
    '[{"id": "1", "input": "x", "profile": [',
  );
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    requests.push({ path, range: request.headers.range });
    const failures = failPaths.get(path) ?? 0;
    if (failures > 0) {
      failPaths.set(path, failures - 1);
      response.writeHead(503).end('busy');
      return;
    }
    const file = join(served, path);
    if (!path.startsWith('/') || path.includes('..') || !existsSync(file)) {
      response.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      response.writeHead(200, { 'content-length': body.length });
    }
    const cut = breakAfter.get(path);
    if (cut !== undefined) {
      breakAfter.delete(path);
      response.write(body.subarray(start, start + cut));
      setTimeout(() => response.destroy(), 20);
      return;
    }
    response.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(served, { recursive: true, force: true });
});

let target: string;
beforeEach(() => {
  requests = [];
  breakAfter = new Map();
  failPaths = new Map();
  target = mkdtempSync(join(tmpdir(), 'userplug-lamp-download-'));
  return () => rmSync(target, { recursive: true, force: true });
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function progressSink() {
  const lines: string[] = [];
  return { lines, stream: { write: (text: string) => lines.push(text), isTTY: false } };
}

describe('downloadLamp (local HTTP server on 127.0.0.1)', () => {
  it('downloads, checks and records the files; a second run verifies and skips them', async () => {
    const progress = progressSink();
    const files = await downloadLamp({
      task: 2,
      splits: ['dev', 'test'],
      directory: target,
      baseUrl,
      progress: progress.stream,
    });
    expect(files.map((file) => [file.status, file.path.slice(target.length)])).toEqual([
      ['downloaded', '/LaMP_2/new/dev/dev_questions.json'],
      ['downloaded', '/LaMP_2/new/dev/dev_outputs.json'],
      ['downloaded', '/LaMP_2/new/test/test_questions.json'],
    ]);
    for (const file of files) {
      expect(readFileSync(file.path)).toEqual(readFileSync(join(served, file.path.slice(target.length))));
      expect(file.sha256).toBe(sha256(file.path));
    }
    expect(progress.lines.join('')).toMatch(/LaMP_2\/new\/dev\/dev_questions\.json {2}\[#{24}\] 100%/);
    const manifest = JSON.parse(readFileSync(join(target, 'lamp-manifest.json'), 'utf8'));
    expect(Object.keys(manifest.files)).toHaveLength(3);
    const dataset = await loadLamp({ data: target, task: 2, split: 'dev' });
    expect(dataset.questions).toHaveLength(2);
    expect(dataset.golds?.get('201')).toBe('romance');

    requests = [];
    const again = await downloadLamp({ task: 2, splits: ['dev', 'test'], directory: target, baseUrl });
    expect(again.map((file) => file.status)).toEqual(['present', 'present', 'present']);
    expect(requests).toEqual([]);
  });

  it('resumes a partial file with an HTTP Range request', async () => {
    const source = join(served, 'LaMP_3', 'dev', 'dev_questions.json');
    const destination = join(target, 'LaMP_3', 'dev', 'dev_questions.json');
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(`${destination}.part`, readFileSync(source).subarray(0, 100));
    const files = await downloadLamp({ task: 3, splits: ['dev'], directory: target, baseUrl });
    expect(files[0]!.status).toBe('resumed');
    expect(requests[0]).toEqual({ path: '/LaMP_3/dev/dev_questions.json', range: 'bytes=100-' });
    expect(readFileSync(destination)).toEqual(readFileSync(source));
    expect(existsSync(`${destination}.part`)).toBe(false);
  });

  it('retries a broken connection and a 503 by resuming where it stopped', async () => {
    breakAfter.set('/time/LaMP_7/dev/dev_questions.json', 40);
    failPaths.set('/time/LaMP_7/dev/dev_outputs.json', 1);
    const files = await downloadLamp({
      task: 7,
      splits: ['dev'],
      timeBased: true,
      directory: target,
      baseUrl,
    });
    expect(files.map((file) => file.status)).toEqual(['resumed', 'downloaded']);
    expect(requests.map((request) => request.range)).toEqual([undefined, 'bytes=40-', undefined, undefined]);
    expect(readFileSync(files[0]!.path)).toEqual(
      readFileSync(join(served, 'time', 'LaMP_7', 'dev', 'dev_questions.json')),
    );
    const dataset = await loadLamp({ data: target, task: 7, split: 'dev', timeBased: true });
    expect(dataset.timeBased).toBe(true);
  });

  it('rejects a wrong SHA-256, invalid JSON and a missing file (no retry on 404)', async () => {
    await expect(
      downloadLamp({
        task: 5,
        splits: ['dev'],
        directory: target,
        baseUrl,
        sha256: { 'dev_questions.json': '00'.repeat(32) },
      }),
    ).rejects.toThrow(/SHA-256 .* expected 0000/);
    expect(existsSync(join(target, 'LaMP_5', 'dev', 'dev_questions.json'))).toBe(false);
    const expected = sha256(join(served, 'LaMP_5', 'dev', 'dev_questions.json'));
    const good = await downloadLamp({
      task: 5,
      splits: ['dev'],
      directory: target,
      baseUrl,
      sha256: { 'dev_questions.json': expected },
    });
    expect(good[0]!.sha256).toBe(expected);

    await expect(downloadLamp({ task: 4, splits: ['train'], directory: target, baseUrl })).rejects.toThrow(
      /not valid JSON/,
    );
    requests = [];
    const missing = downloadLamp({ task: 6, splits: ['dev'], directory: target, baseUrl });
    await expect(missing).rejects.toSatisfy(
      (error) =>
        DownloadError.isInstance(error) && error.status === 404 && /LaMP-6 is not public/.test(error.message),
    );
    expect(requests).toHaveLength(1);
  });

  it('runs as `userplug-eval lamp download` with a configurable base URL', async () => {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    };
    const code = await runEvalCli(
      [
        'lamp',
        'download',
        '--task',
        '1',
        '--split',
        'dev,test',
        '--base-url',
        baseUrl,
        '--out',
        target,
        '--json',
      ],
      io,
    );
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { files: { status: string }[] };
    expect(printed.files.map((file) => file.status)).toEqual(['downloaded', 'downloaded', 'downloaded']);
    expect(stderr).toContain('100%');
  });
});
