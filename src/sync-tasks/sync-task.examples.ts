// The sync-task request bodies the OpenAPI document offers as examples;
// test/openapi-examples.http.test.ts sends every one of them.

import type { BodyExample } from '../tasks/task.examples.js';

const KEYS = { src_ak: 'SRC_AK', src_sk: 'SRC_SK', dst_ak: 'DST_AK', dst_sk: 'DST_SK' };

export const CREATE_SYNC_TASK_EXAMPLES: Record<string, BodyExample> = {
  aliyun: {
    summary: 'Keep an OBS bucket in step with an Aliyun OSS bucket',
    value: {
      src_cloud_type: 'Aliyun',
      src_region: 'cn-hangzhou',
      src_bucket: 'photos',
      dst_region: 'cn-north-4',
      dst_bucket: 'photos-copy',
      ...KEYS,
      description: 'photos, continuously',
    },
  },
};

export const START_SYNC_TASK_EXAMPLES: Record<string, BodyExample> = {
  keys: { summary: 'The four keys, as start needs them', value: KEYS },
};

export const SYNC_EVENTS_EXAMPLES: Record<string, BodyExample> = {
  keys: {
    summary: 'Two URL-encoded object keys',
    value: { object_keys: ['2026%2Fjanuary%2Fa.jpg', 'readme.txt'] },
  },
};
