import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasRedisServer, redisServerSuiteRuns, requireRedisServer } from '../src/index.js';

// A PATH holding no redis-server: what a machine without the package looks like.
const emptyDir = mkdtempSync(join(tmpdir(), 'knm-no-redis-'));
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

describe('suites that start their own redis-server', () => {
  it('in CI, without redis-server, run (not skip) and fail on their first test', () => {
    const env = { CI: 'true', PATH: emptyDir };
    expect(hasRedisServer(env)).toBe(false);
    expect(redisServerSuiteRuns(env)).toBe(true);
    expect(() => requireRedisServer(env)).toThrow(/redis-server is not on PATH: \.ci\/run installs it/);
  });

  it('outside CI, without redis-server, skip', () => {
    expect(redisServerSuiteRuns({ PATH: emptyDir })).toBe(false);
  });
});
