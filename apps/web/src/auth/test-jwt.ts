/**
 * A JWT carrying `payload` for specs, with a dummy signature: the dashboard reads
 * claims without verifying them (the gateway does).
 */
export function testJwt(payload: object): string {
  const enc = (o: object) =>
    btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}.c2lnbmF0dXJl`;
}
