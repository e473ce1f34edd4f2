import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { openApiV2Document } from '../api/openapi/openapi-v2.js';
import { encodeOpenApiV2 } from './openapi-v2-protobuf.js';

/**
 * `/openapi/v2` as the API server's kube-openapi handler serves it: content
 * negotiation between JSON and gnostic protobuf, one ETag for both (the SHA-512 of
 * the JSON; `Vary: Accept` tells caches apart), `If-None-Match` and
 * `If-Modified-Since` answered 304 (kubectl's HTTP cache revalidates its copy that
 * way), gzip for clients that accept it, and 406 for an Accept it cannot meet.
 */

/** The media types offered, in the handler's order; the deprecated protobuf name is answered with the current one. */
const OFFERS = [
  { type: 'application', subType: 'json', contentType: 'application/json', proto: false },
  {
    type: 'application',
    subType: 'com.github.proto-openapi.spec.v2@v1.0+protobuf',
    contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
    proto: true,
  },
  {
    type: 'application',
    subType: 'com.github.proto-openapi.spec.v2.v1.0+protobuf',
    contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
    proto: true,
  },
] as const;

/** Bodies shorter than this go out uncompressed (the gzip handler's default minimum). */
const GZIP_MIN_BYTES = 1400;

interface Encoded {
  body: Buffer;
  gzipped: Buffer;
}

interface Payloads {
  json: Encoded;
  proto: Encoded;
  etag: string;
  /** When the document was built, as an HTTP date (whole seconds). */
  lastModified: Date;
}

const built = new Map<string, Payloads>();

function encoded(body: Buffer): Encoded {
  return { body, gzipped: gzipSync(body) };
}

/** The document's encodings for a server version, built once. */
function payloads(gitVersion: string): Payloads {
  let p = built.get(gitVersion);
  if (p === undefined) {
    const doc = openApiV2Document(gitVersion);
    const json = Buffer.from(JSON.stringify(doc));
    p = {
      json: encoded(json),
      proto: encoded(encodeOpenApiV2(doc)),
      etag: `"${createHash('sha512').update(json).digest('hex').toUpperCase()}"`,
      lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
    };
    built.set(gitVersion, p);
  }
  return p;
}

interface AcceptClause {
  type: string;
  subType: string;
  q: number;
}

/** The Accept header's media ranges, best first: by q, then concrete types before wildcards. */
function acceptClauses(header: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim());
    const slash = range.indexOf('/');
    const [type, subType] = slash < 0 ? [range, '*'] : [range.slice(0, slash), range.slice(slash + 1)];
    if (type === '') continue;
    const qParam = params.find((p) => p.toLowerCase().startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    clauses.push({ type, subType, q: Number.isFinite(q) ? q : 0 });
  }
  const rank = (c: AcceptClause) => [-c.q, c.type === '*' ? 1 : 0, c.subType === '*' ? 1 : 0];
  return clauses.sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
    return 0;
  });
}

function negotiate(accept: string | undefined): (typeof OFFERS)[number] | undefined {
  for (const clause of acceptClauses(accept === undefined || accept === '' ? '*/*' : accept)) {
    const offer = OFFERS.find(
      (o) =>
        (clause.type === o.type || clause.type === '*') &&
        (clause.subType === o.subType || clause.subType === '*'),
    );
    if (offer !== undefined) return offer;
  }
  return undefined;
}

/** Whether If-None-Match names this ETag (weak comparison, `*` matching anything), as Go's ServeContent checks. */
function noneMatchHits(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/** Whether the client's copy is current: If-None-Match decides when sent, else If-Modified-Since. */
function notModified(headers: IncomingHttpHeaders, p: Payloads): boolean {
  const noneMatch = headers['if-none-match'];
  if (noneMatch !== undefined) return noneMatchHits(noneMatch, p.etag);
  const since = headers['if-modified-since'];
  if (since === undefined) return false;
  const time = Date.parse(since);
  return Number.isFinite(time) && p.lastModified.getTime() <= time;
}

function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return coding === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** Answers a GET or HEAD of `/openapi/v2`. */
export function serveOpenApiV2(headers: IncomingHttpHeaders, res: ServerResponse, gitVersion: string): void {
  res.setHeader('Vary', ['Accept-Encoding', 'Accept']);
  res.setHeader('Cache-Control', 'no-cache, private');
  const offer = negotiate(headers.accept);
  if (offer === undefined) {
    res.writeHead(406).end();
    return;
  }
  const p = payloads(gitVersion);
  res.setHeader('Etag', p.etag);
  if (notModified(headers, p)) {
    res.writeHead(304).end();
    return;
  }
  const { body, gzipped } = offer.proto ? p.proto : p.json;
  const gzip = body.length >= GZIP_MIN_BYTES && acceptsGzip(headers['accept-encoding']);
  const sent = gzip ? gzipped : body;
  res.writeHead(200, {
    'Content-Type': offer.contentType,
    'Last-Modified': p.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'Content-Length': sent.length,
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(sent);
}
