// The request bodies the OpenAPI document offers as examples. "Try it out"
// sends them as they are, so each must be a body the service accepts: an
// example built from the schema alone would carry every optional field at
// once (object_key and list_file together, which no task type takes).
// test/openapi-examples.http.test.ts sends every one of them.

/** One named example of a request body, as OpenAPI's `examples` holds it. */
export interface BodyExample {
  readonly summary: string;
  readonly value: unknown;
}

const SOURCE = {
  cloud_type: 'Aliyun',
  region: 'cn-hangzhou',
  bucket: 'photos',
  ak: 'SRC_AK',
  sk: 'SRC_SK',
};

const DESTINATION = {
  region: 'cn-north-4',
  bucket: 'photos-copy',
  ak: 'DST_AK',
  sk: 'DST_SK',
};

export const CREATE_TASK_EXAMPLES: Record<string, BodyExample> = {
  object: {
    summary: 'Objects and folders of a bucket (task_type object)',
    value: {
      task_type: 'object',
      src_node: { ...SOURCE, object_key: ['2026/'] },
      dst_node: DESTINATION,
      description: 'photos of 2026',
      bandwidth_policy: [{ start: '08:00', end: '20:00', max_bandwidth: 10485760 }],
      task_priority: 'HIGH',
    },
  },
  list: {
    summary: 'The objects an object list names (task_type list)',
    value: {
      task_type: 'list',
      src_node: {
        ...SOURCE,
        list_file: { list_file_key: 'lists/2026.txt', obs_bucket: 'my-lists' },
      },
      dst_node: DESTINATION,
    },
  },
  notify: {
    summary: 'Notify an SMN topic when the task fails (smn_config)',
    value: {
      task_type: 'prefix',
      src_node: { ...SOURCE, object_key: ['logs/'] },
      dst_node: DESTINATION,
      smn_config: {
        topic_urn: 'urn:smn:cn-north-4:0a1b2c3d4e5f60718293a4b5c6d7e8f9:oms-migrations',
        trigger_conditions: ['FAILURE'],
        language: 'en-us',
      },
    },
  },
};

export const START_TASK_EXAMPLES: Record<string, BodyExample> = {
  keys: {
    summary: 'The keys of both buckets again',
    value: { src_ak: 'SRC_AK', src_sk: 'SRC_SK', dst_ak: 'DST_AK', dst_sk: 'DST_SK' },
  },
};

export const BANDWIDTH_POLICY_EXAMPLES: Record<string, BodyExample> = {
  night: {
    summary: 'Up to 200 MiB/s from 22:00 to 06:00',
    value: { bandwidth_policy: [{ start: '22:00', end: '06:00', max_bandwidth: 209715200 }] },
  },
  none: { summary: 'No limit at any time', value: { bandwidth_policy: [] } },
};

export const BATCH_UPDATE_EXAMPLES: Record<string, BodyExample> = {
  ids: {
    summary: 'Two tasks: 200 MiB/s at night, high priority',
    value: {
      ids: [101, 102],
      bandwidth_policy: [{ start: '22:00', end: '06:00', max_bandwidth: 209715200 }],
      task_priority: 'HIGH',
    },
  },
  group: {
    summary: 'Every task of a group: no limit',
    value: { group_id: 'b9a1e3c2-6f4d-4e8a-9d0b-2c5f7a1e8d3b', bandwidth_policy: [] },
  },
};
