import { describe, expect, it } from 'vitest';
import { spawnProcess } from '../src/processes.js';
import { sleep, waitFor } from '../src/wait-for.js';
import { freePort } from '../src/free-port.js';

describe('spawnProcess', () => {
  it('captures output and waits for a line', async () => {
    const p = spawnProcess({
      name: 'echo',
      args: ['-e', 'console.log("starting"); setTimeout(() => console.error("ready on 1234"), 100)'],
    });
    const match = await p.waitForOutput(/ready on (\d+)/);
    expect(match[1]).toBe('1234');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.output()).toContain('starting');
  });

  it('rejects waitForOutput when the process exits first, showing its output', async () => {
    const p = spawnProcess({ name: 'crash', args: ['-e', 'console.error("boom"); process.exit(3)'] });
    await expect(p.waitForOutput(/never/)).rejects.toThrow(/crash exited.*"code":3[\s\S]*\[crash\] boom/);
  });

  it('stops with SIGTERM, and SIGKILLs a process that ignores it', async () => {
    const polite = spawnProcess({
      name: 'polite',
      args: ['-e', 'setInterval(() => {}, 1000); console.log("up")'],
    });
    await polite.waitForOutput(/up/);
    expect(await polite.stop()).toEqual({ code: null, signal: 'SIGTERM' });

    const stubborn = spawnProcess({
      name: 'stubborn',
      args: ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000); console.log("up")'],
    });
    await stubborn.waitForOutput(/up/);
    expect(await stubborn.stop('SIGTERM', 300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stubborn.running).toBe(false);
  });

  it('kills the whole process group, grandchildren included', async () => {
    const parent = spawnProcess({
      name: 'parent',
      args: [
        '-e',
        `const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], { stdio: "ignore" });
         console.log("child " + c.pid); setInterval(() => {}, 1000);`,
      ],
    });
    const [, pid] = await parent.waitForOutput(/child (\d+)/);
    await parent.stop();
    await waitFor(
      () => {
        try {
          process.kill(Number(pid), 0);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'grandchild to be gone', timeout: 5_000 },
    );
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : undefined), { interval: 1 })).toBe(3);
  });

  it('times out naming what it waited for and what it saw last', async () => {
    await expect(waitFor(() => false, { timeout: 50, what: 'the moon' })).rejects.toThrow(
      /timed out after 50 ms waiting for the moon \(last: false\)/,
    );
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { timeout: 30 },
      ),
    ).rejects.toThrow(/last: Error: not yet/);
  });

  it('sleep waits', async () => {
    const t = Date.now();
    await sleep(30);
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
  });
});

describe('freePort', () => {
  it('returns a port nothing listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    server.close();
  });
});
