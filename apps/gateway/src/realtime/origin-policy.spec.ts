import { describe, expect, it } from 'vitest';
import { originAllowed } from './origin-policy.js';

const listed = new Set(['https://knm.example.com']);
const req = (headers: Record<string, string>) => ({ headers });

describe('originAllowed', () => {
  it.each([
    ['no Origin (a non-browser client)', { host: 'gw:8080' }, true],
    ['a listed origin', { origin: 'https://knm.example.com', host: 'gw:8080' }, true],
    ['the page served by this gateway', { origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' }, true],
    ['the same host, other case', { origin: 'http://LOCALHOST:8080', host: 'localhost:8080' }, true],
    [
      'the page served through the balancer',
      { origin: 'https://nodes.example.com', host: '10.0.0.7:8080', 'x-forwarded-host': 'nodes.example.com' },
      true,
    ],
    ['a foreign origin', { origin: 'http://evil.example', host: '127.0.0.1:8080' }, false],
    ['the same host on another port', { origin: 'http://127.0.0.1:9999', host: '127.0.0.1:8080' }, false],
    [
      'a host that only starts like ours',
      { origin: 'http://127.0.0.1:80801', host: '127.0.0.1:8080' },
      false,
    ],
    ['an unparsable Origin', { origin: 'null', host: '127.0.0.1:8080' }, false],
  ])('%s -> %s', (_what, headers, expected) => {
    expect(originAllowed(req(headers), listed)).toBe(expected);
  });
});
