import { fileURLToPath } from 'node:url';

/**
 * Entry point of `npm run gateway`. From source (`node --import tsx main.ts`), tsx
 * transpiles with the tsconfig of the working directory, the workspace root, which
 * does not enable `experimentalDecorators`; the NestJS code needs it, so the process
 * is loaded through tsx's API with this app's tsconfig. Built (`dist/main.js`), it
 * is imported directly.
 */
if (import.meta.url.endsWith('.ts')) {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('./serve.ts', {
    parentURL: import.meta.url,
    tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)),
  });
} else {
  await import('./serve.js');
}
