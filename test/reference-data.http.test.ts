// GET objectstorage/cloud-type and objectstorage/data-center over HTTP: bare
// JSON arrays, the same guard and error body as the task calls. The official
// SDK's calls: sdk-client.http.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { assertOmsError } from './support/stop-checks.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'project-reference';

let t: TestApp;
let reader: string;

before(async () => {
  t = await startTestApp();
  reader = t.keystone.issue({ projectId: PROJECT, roles: ['reader'] });
});
after(async () => t.close());

const get = (path: string, token = reader, project = PROJECT) =>
  request(t.server).get(`/v2/${project}/objectstorage/${path}`).set('X-Auth-Token', token);

describe('cloud types', () => {
  test('type=src: the source clouds, a bare array; a reader may ask', async () => {
    const res = await get('cloud-type?type=src');
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /^\[/);
    assert.deepEqual(res.body, [
      'AWS',
      'Azure',
      'Aliyun',
      'Tencent',
      'HuaweiCloud',
      'QingCloud',
      'KingsoftCloud',
      'Baidu',
      'Qiniu',
      'URLSource',
      'Google',
      'UCloud',
    ]);
  });

  test('type=dst: HuaweiCloud only', async () => {
    const res = await get('cloud-type?type=dst');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, ['HuaweiCloud']);
  });

  for (const query of ['', '?type=', '?type=SRC', '?type=both', '?type=src&type=dst']) {
    test(`"${query}": 400 OMS.0064`, async () => {
      assertOmsError(await get(`cloud-type${query}`), 400, 'OMS.0064', /type/);
    });
  }
});

describe('data centres', () => {
  test('a bare array of {service_name, region_list: [{cloud_type, value, description}]}', async () => {
    const res = await get('data-center');
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body) && res.body.length > 0);
    const sources = (await get('cloud-type?type=src')).body as string[];
    for (const centre of res.body) {
      assert.deepEqual(Object.keys(centre).sort(), ['region_list', 'service_name']);
      assert.ok(sources.includes(centre.service_name), centre.service_name);
      assert.ok(centre.region_list.length > 0, centre.service_name);
      for (const region of centre.region_list) {
        assert.deepEqual(Object.keys(region).sort(), ['cloud_type', 'description', 'value']);
        assert.equal(region.cloud_type, centre.service_name);
        assert.match(region.value, /^[A-Za-z0-9-]+$/);
        assert.notEqual(region.description, '');
      }
    }
    const huawei = res.body.find(
      (centre: { service_name: string }) => centre.service_name === 'HuaweiCloud',
    );
    assert.ok(
      huawei.region_list.some((region: { value: string }) => region.value === 'cn-north-4'),
    );
  });
});

describe('bounds', () => {
  test('an empty or over-long project segment: 400 OMS.0064, as for the task calls', async () => {
    for (const path of ['cloud-type?type=src', 'data-center']) {
      assertOmsError(await get(path, reader, ''), 400, 'OMS.0064', /empty/);
      assertOmsError(await get(path, reader, 'p'.repeat(1025)), 400, 'OMS.0064');
    }
  });
});

describe('the guard', () => {
  for (const path of ['cloud-type?type=src', 'data-center']) {
    test(`${path}: no credential 401; another project's token 403`, async () => {
      assertOmsError(await get(path, 'not-a-token-keystone-knows'), 401, 'APIGW.0301');
      const stranger = t.keystone.issue({ projectId: 'someone-else' });
      assertOmsError(await get(path, stranger), 403, 'OMS.0206');
    });
  }
});
