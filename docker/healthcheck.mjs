// Container health check without curl/wget in the image: exits 0 when the URL answers 2xx.
// Usage: node /app/docker/healthcheck.mjs http://127.0.0.1:8080/healthz
const url = process.argv[2] ?? 'http://127.0.0.1:8080/healthz';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
