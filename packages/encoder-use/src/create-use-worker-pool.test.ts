import { describe, expect, it } from 'vitest';
import { locateWorkerEntry, workerExecArgv } from './create-use-worker-pool.js';

describe('worker start-up', () => {
  it('keeps the flags that steer module loading and drops the ones workers reject', () => {
    expect(
      workerExecArgv([
        '--input-type=module',
        '--conditions=@userplug/source',
        '--import',
        'tsx',
        '--inspect',
        '-r',
        './setup.cjs',
        '--enable-source-maps',
        '--max-old-space-size=4096',
      ]),
    ).toEqual([
      '--conditions=@userplug/source',
      '--import',
      'tsx',
      '-r',
      './setup.cjs',
      '--enable-source-maps',
    ]);
  });

  it('starts from the TypeScript source through tsx when no compiled worker sits next to it', () => {
    const entry = locateWorkerEntry();
    expect(entry.isCode).toBe(true);
    expect(String(entry.script)).toContain('use-encoder-worker.ts');
    expect(String(entry.script)).toContain('tsx');
  });
});
