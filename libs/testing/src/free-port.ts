import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on 127.0.0.1. Prefer letting the server under test
 * listen on port 0 itself; use this only when a port must be known before a child
 * process starts (there is a small window in which another process could take it).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the OS assigned'));
      });
    });
  });
}
