import vue from '@vitejs/plugin-vue';
import { defaultClientConditions, defineConfig } from 'vite';

const gateway = process.env['KNM_GATEWAY_URL'] ?? 'http://127.0.0.1:8080';

/**
 * The dashboard's build: Vue single-file components, workspace packages resolved
 * from their TypeScript source (`@knm/source`), output in `dist/` with hashed file
 * names under `assets/` (the gateway caches those for a year, index.html never).
 * Source maps (the full sources) only with `KNM_WEB_SOURCE_MAPS=true`; the gateway
 * serves them only with the same setting.
 * `npm run web:dev` proxies the API and Socket.IO to `KNM_GATEWAY_URL`.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [vue()],
  resolve: { conditions: ['@knm/source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: process.env['KNM_WEB_SOURCE_MAPS'] === 'true',
    target: 'es2022',
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      '/api': gateway,
      '/socket.io': { target: gateway, ws: true },
    },
  },
});
