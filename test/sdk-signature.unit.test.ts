// The SDK-HMAC-SHA256 canonicalisation, piece by piece with expected
// strings, and as a whole against the official SDK core's signer: requests
// with awkward paths, queries and bodies, signed by AKSKSigner, must verify.

import assert from 'node:assert/strict';
import { stringify } from 'node:querystring';
import { describe, test } from 'node:test';
import type { AccessKeyRecord, AccessKeyStore } from '../src/iam/access-key.js';
import {
  EMPTY_BODY_SHA256,
  canonicalQueryString,
  canonicalRequest,
  canonicalUris,
  parseAuthorization,
  parseSdkDate,
  sdkEscape,
  sha256Hex,
  signatureOf,
  signaturesEqual,
  stringToSign,
} from '../src/iam/sdk-signature.js';
import { SignatureAuthenticator, type SignedRequest } from '../src/iam/signature-authenticator.js';
import { signWithSdk, type ToSign } from './support/sdk-signing.js';

describe('canonical pieces', () => {
  test('sdkEscape keeps only RFC 3986 unreserved characters, upper-case hex over UTF-8', () => {
    assert.equal(sdkEscape('AZaz09-_.~'), 'AZaz09-_.~');
    assert.equal(sdkEscape("a b!'()*/+="), 'a%20b%21%27%28%29%2A%2F%2B%3D');
    assert.equal(sdkEscape('é€😀'), '%C3%A9%E2%82%AC%F0%9F%98%80');
  });

  test('canonical URI: each segment escaped, a trailing slash added once', () => {
    assert.deepEqual(canonicalUris('/v2/p1/tasks/7/stop'), ['/v2/p1/tasks/7/stop/']);
    assert.deepEqual(canonicalUris('/v2/p1/tasks/'), ['/v2/p1/tasks/']);
    assert.deepEqual(canonicalUris('/'), ['/']);
  });

  test('canonical URI of an encoded path: the Node SDK form, then the decoded form', () => {
    assert.deepEqual(canonicalUris('/a%20b/c'), ['/a%2520b/c/', '/a%20b/c/']);
    assert.deepEqual(canonicalUris('/bad%zz'), ['/bad%25zz/']);
  });

  test('canonical query: keys sorted, values of a key sorted, both escaped', () => {
    assert.equal(canonicalQueryString(''), '');
    assert.equal(canonicalQueryString('b=2&a=1&a=0'), 'a=0&a=1&b=2');
    assert.equal(canonicalQueryString('q=a+b&k=&z=%2F'), 'k=&q=a%20b&z=%2F');
    assert.equal(canonicalQueryString('name=%C3%A9t%C3%A9'), 'name=%C3%A9t%C3%A9');
  });

  test('canonical request and string to sign, as the scheme lays them out', () => {
    const canonical = canonicalRequest({
      method: 'POST',
      canonicalUri: '/v2/p/tasks/1/stop/',
      canonicalQuery: '',
      canonicalHeaders: 'host:h\nx-sdk-date:20261128T100000Z\n',
      signedHeaders: ['x-sdk-date', 'host'],
      payloadHash: EMPTY_BODY_SHA256,
    });
    assert.equal(
      canonical,
      [
        'POST',
        '/v2/p/tasks/1/stop/',
        '',
        'host:h\nx-sdk-date:20261128T100000Z\n',
        'host;x-sdk-date',
        EMPTY_BODY_SHA256,
      ].join('\n'),
    );
    const toSign = stringToSign('20261128T100000Z', canonical);
    assert.match(toSign, /^SDK-HMAC-SHA256\n20261128T100000Z\n[0-9a-f]{64}$/);
    assert.match(signatureOf('sk', toSign), /^[0-9a-f]{64}$/);
  });

  test('signatures compare equal only when identical', () => {
    const a = 'a'.repeat(64);
    assert.equal(signaturesEqual(a, a), true);
    assert.equal(signaturesEqual(a, `${'a'.repeat(63)}b`), false);
    assert.equal(signaturesEqual(a, 'a'), false);
  });

  test('X-Sdk-Date: only real UTC timestamps in the basic format', () => {
    assert.equal(parseSdkDate('20261128T235959Z'), Date.UTC(2026, 10, 28, 23, 59, 59));
    assert.equal(parseSdkDate('20240229T000000Z'), Date.UTC(2024, 1, 29));
    for (const bad of [
      '20250229T000000Z',
      '20261128T240000Z',
      '20261128T126000Z',
      '20261128T120060Z',
      '20261128T120000',
      '2026-11-28T12:00:00Z',
      '',
    ]) {
      assert.equal(parseSdkDate(bad), undefined, bad);
    }
  });

  test('Authorization: the three fields, each once, a 64-hex signature', () => {
    const sig = 'f'.repeat(64);
    assert.deepEqual(
      parseAuthorization(
        `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=${sig}`,
      ),
      { accessKey: 'AK1', signedHeaders: ['host', 'x-sdk-date'], signature: sig },
    );
    for (const bad of [
      `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host`,
      `SDK-HMAC-SHA256 Access=AK1, Access=AK2, SignedHeaders=host, Signature=${sig}`,
      `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=${sig.toUpperCase()}`,
      `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=Host, Signature=${sig}`,
      `V11-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=${sig}`,
      `Bearer abc`,
    ]) {
      assert.equal(parseAuthorization(bad), undefined, bad);
    }
  });
});

const DECLARED_BODY = '{"declared":true}';

describe('requests signed by the official SDK core verify', () => {
  const KEY = { accessKey: 'AKUNITTEST0001', secretKey: 'unit-secret-key/+=' };
  const identity = {
    userId: 'u1',
    userName: 'u1',
    projectId: 'p1',
    roles: ['member'],
    expiresAt: Date.now() + 3_600_000,
  };
  const store: AccessKeyStore = {
    lookup: async (accessKey: string): Promise<AccessKeyRecord | undefined> =>
      accessKey === KEY.accessKey
        ? { secretKey: KEY.secretKey, caller: identity, expiresAt: identity.expiresAt }
        : undefined,
  };
  const verifier = new SignatureAuthenticator(store, { ttlSeconds: 60, maxEntries: 10 });

  /**
   * What the server would receive for `req`: `wirePath` is the path as an
   * HTTP client puts it on the wire (non-ASCII percent-encoded).
   */
  function received(req: ToSign, wirePath = req.path, body?: string): SignedRequest {
    const headers = Object.fromEntries(
      Object.entries(signWithSdk(8080, KEY, req)).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    const query = req.query && Object.keys(req.query).length > 0 ? `?${stringify(req.query)}` : '';
    const sentBody = body ?? (req.body ? JSON.stringify(req.body) : undefined);
    return {
      method: req.method,
      url: `${wirePath}${query}`,
      header: (name) => headers[name],
      body: sentBody === undefined ? undefined : Buffer.from(sentBody),
    };
  }

  /** label, request to sign, path on the wire if it differs, body if not the signed one */
  const cases: [string, ToSign, string?, string?][] = [
    ['a stop with no body', { method: 'POST', path: '/v2/p1/tasks/1/stop' }],
    ['a path with a trailing slash', { method: 'GET', path: '/v2/p1/tasks/' }],
    [
      'a query with repeated, reserved and non-ASCII values',
      {
        method: 'GET',
        path: '/v2/p1/tasks',
        query: { status: ['3', '1'], name: 'a b/c&d=é', limit: '10', '': 'empty-key' },
      },
    ],
    [
      'a JSON body with non-ASCII text',
      { method: 'POST', path: '/v2/p1/tasks', body: { name: 'täglich €', n: 1, list: [1, 'x'] } },
    ],
    [
      'extra signed headers, upper and lower case',
      {
        method: 'POST',
        path: '/v2/p1/tasks/1/start',
        headers: {
          'X-Project-Id': 'p1',
          'x-client-note': 'Some Value',
          Accept: 'application/json',
        },
      },
    ],
    [
      'a path segment with a space, sent percent-encoded',
      { method: 'DELETE', path: '/v2/p1/tasks/a%20b' },
    ],
    [
      'a non-ASCII path segment, sent percent-encoded',
      { method: 'GET', path: '/v2/p1/tasks/é' },
      '/v2/p1/tasks/%C3%A9',
    ],
    [
      'a body declared by X-Sdk-Content-Sha256',
      {
        method: 'POST',
        path: '/v2/p1/tasks',
        headers: { 'X-Sdk-Content-Sha256': sha256Hex(DECLARED_BODY) },
      },
      undefined,
      DECLARED_BODY,
    ],
  ];

  for (const [label, req, wirePath, body] of cases) {
    test(label, async () => {
      assert.deepEqual(await verifier.authenticate(received(req, wirePath, body)), identity);
    });
  }

  test('and the same request with one byte of the query changed does not', async () => {
    const request = received({ method: 'GET', path: '/v2/p1/tasks', query: { limit: '10' } });
    const changed = { ...request, url: request.url.replace('limit=10', 'limit=11') };
    await assert.rejects(verifier.authenticate(changed), /signature does not match/);
  });

  describe('the signed Host, against the names the service answers to', () => {
    const bound = new SignatureAuthenticator(store, {
      ttlSeconds: 60,
      maxEntries: 10,
      hosts: ['oms.example.com:8443', 'api.example', '[2001:db8::1]'],
    });
    const stopFor = (host: string) =>
      received({ method: 'POST', path: '/v2/p1/tasks/1/stop', host });

    for (const host of [
      'oms.example.com:8443',
      'OMS.Example.com:8443',
      'api.example',
      'api.example:1',
      '[2001:db8::1]:8080',
    ]) {
      test(`${host}: accepted`, async () => {
        assert.deepEqual(await bound.authenticate(stopFor(host)), identity);
      });
    }
    for (const host of [
      'oms.example.com',
      'oms.example.com:443',
      'api.example.evil',
      'evil.api.example',
      '127.0.0.1:8080',
      '[::1]',
      '2001:db8::1',
    ]) {
      test(`${host}: refused`, async () => {
        await assert.rejects(
          bound.authenticate(stopFor(host)),
          /not a name this service answers to/,
        );
      });
    }
  });
});
