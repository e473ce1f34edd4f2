import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { openApiV2Document } from '../api/openapi/openapi-v2.js';
import { groupVersionDocument, openApiIndex } from '../api/openapi/openapi-v3.js';
import { encodeOpenApiV2 } from './openapi-v2-protobuf.js';

/**
 * The OpenAPI documents as the API server's kube-openapi handlers serve them: an
 * ETag (the SHA-512 of the JSON) with `If-None-Match` and `If-Modified-Since`
 * answered 304 (kubectl's HTTP cache revalidates its copies that way), content
 * negotiation (406 for an Accept it cannot meet) and, per version:
 * - `/openapi/v2`: JSON or gnostic protobuf under one ETag (`Vary: Accept` tells
 *   caches apart), gzipped for clients that accept it;
 * - `/openapi/v3/<group-version>?hash=`: the hash the index names is the ETag; a
 *   stale one is redirected (301) to the current URL, a current one is cacheable
 *   for a year (`public, immutable`), so clients fetch a document once.
 */

/** A media type a document is offered in: the Accept range it answers and the Content-Type it is sent with. */
interface Offer {
  type: string;
  subType: string;
  contentType: string;
}

const JSON_OFFER: Offer = { type: 'application', subType: 'json', contentType: 'application/json' };
const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** What `/openapi/v2` offers, in the handler's order; the deprecated protobuf name is answered with the current one. */
const V2_OFFERS: Offer[] = [
  JSON_OFFER,
  {
    type: 'application',
    subType: 'com.github.proto-openapi.spec.v2@v1.0+protobuf',
    contentType: V2_PROTOBUF,
  },
  {
    type: 'application',
    subType: 'com.github.proto-openapi.spec.v2.v1.0+protobuf',
    contentType: V2_PROTOBUF,
  },
];

/** Bodies shorter than this go out uncompressed (the gzip handler's default minimum). */
const GZIP_MIN_BYTES = 1400;

/** A document ready to serve: its bytes by content type, its hash (the ETag, unquoted) and when it was built. */
interface Served {
  bodies: Map<string, Buffer>;
  hash: string;
  lastModified: Date;
}

/** The documents built so far, by server version and path: they never change while a server runs. */
const built = new Map<string, Served>();
const gzipped = new WeakMap<Buffer, Buffer>();

function cached(key: string, build: () => Served | undefined): Served | undefined {
  let doc = built.get(key);
  if (doc === undefined) {
    doc = build();
    if (doc !== undefined) built.set(key, doc);
  }
  return doc;
}

/** A document from its JSON (which the hash is taken over) and its other encodings. */
function served(json: unknown, others: Record<string, Buffer> = {}): Served {
  const bytes = Buffer.from(JSON.stringify(json));
  return {
    bodies: new Map([['application/json', bytes], ...Object.entries(others)]),
    hash: createHash('sha512').update(bytes).digest('hex').toUpperCase(),
    lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
  };
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

function negotiate(accept: string | undefined, offers: readonly Offer[]): Offer | undefined {
  for (const clause of acceptClauses(accept === undefined || accept === '' ? '*/*' : accept)) {
    const offer = offers.find(
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
function notModified(headers: IncomingHttpHeaders, doc: Served): boolean {
  const noneMatch = headers['if-none-match'];
  if (noneMatch !== undefined) return noneMatchHits(noneMatch, `"${doc.hash}"`);
  const since = headers['if-modified-since'];
  if (since === undefined) return false;
  const time = Date.parse(since);
  return Number.isFinite(time) && doc.lastModified.getTime() <= time;
}

function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return coding === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/**
 * Writes the document in one encoding as Go's ServeContent does: 304 without body
 * when the client's copy is current, else the bytes with Last-Modified (gzipped
 * when allowed and the client accepts it). Headers set before are kept.
 */
function send(
  headers: IncomingHttpHeaders,
  res: ServerResponse,
  doc: Served,
  contentType: string,
  gzipAllowed = false,
): void {
  res.setHeader('Etag', `"${doc.hash}"`);
  if (notModified(headers, doc)) {
    res.writeHead(304).end();
    return;
  }
  const body = doc.bodies.get(contentType) ?? Buffer.alloc(0);
  const gzip = gzipAllowed && body.length >= GZIP_MIN_BYTES && acceptsGzip(headers['accept-encoding']);
  let sent = body;
  if (gzip) {
    sent = gzipped.get(body) ?? gzipSync(body);
    gzipped.set(body, sent);
  }
  res.writeHead(200, {
    'Content-Type': contentType,
    'Last-Modified': doc.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'Content-Length': sent.length,
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(sent);
}

/** Answers a GET or HEAD of `/openapi/v2`. */
export function serveOpenApiV2(headers: IncomingHttpHeaders, res: ServerResponse, gitVersion: string): void {
  res.setHeader('Vary', ['Accept-Encoding', 'Accept']);
  res.setHeader('Cache-Control', 'no-cache, private');
  const offer = negotiate(headers.accept, V2_OFFERS);
  if (offer === undefined) {
    res.writeHead(406).end();
    return;
  }
  const doc = cached(`${gitVersion} v2`, () => {
    const swagger = openApiV2Document(gitVersion);
    return served(swagger, { [V2_PROTOBUF]: encodeOpenApiV2(swagger) });
  }) as Served;
  send(headers, res, doc, offer.contentType, true);
}

/** Answers a GET or HEAD of `/openapi/v3`: the index of the group-version documents. */
export function serveOpenApiV3Index(
  headers: IncomingHttpHeaders,
  res: ServerResponse,
  gitVersion: string,
): void {
  res.setHeader('Cache-Control', 'no-cache, private');
  const doc = cached(`${gitVersion} v3`, () => served(openApiIndex(gitVersion))) as Served;
  send(headers, res, doc, JSON_OFFER.contentType);
}

/**
 * Answers a GET or HEAD of `/openapi/v3/<path>` (`api/v1`, `apis/apps/v1`); false
 * when kube-sim publishes no such group-version. Only JSON is offered (no v3 protobuf).
 */
export function serveOpenApiV3Document(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  res: ServerResponse,
  gitVersion: string,
  path: string,
): boolean {
  const doc = cached(`${gitVersion} v3 ${path}`, () => {
    const document = groupVersionDocument(path, gitVersion);
    return document === undefined ? undefined : served(document);
  });
  if (doc === undefined) return false;
  res.setHeader('Vary', 'Accept');
  res.setHeader('Cache-Control', 'no-cache, private');
  const offer = negotiate(headers.accept, [JSON_OFFER]);
  if (offer === undefined) {
    res.writeHead(406).end();
    return true;
  }
  const hash = query.get('hash');
  if (hash !== null && hash !== '') {
    res.setHeader('Content-Type', offer.contentType);
    res.setHeader('Etag', `"${doc.hash}"`);
    if (hash !== doc.hash) {
      res.writeHead(301, { Location: `/openapi/v3/${path}?hash=${doc.hash}` }).end();
      return true;
    }
    const inAYear = new Date();
    inAYear.setUTCFullYear(inAYear.getUTCFullYear() + 1);
    res.setHeader('Cache-Control', 'public, immutable');
    res.setHeader('Expires', inAYear.toUTCString());
  }
  send(headers, res, doc, offer.contentType);
  return true;
}
