// An OMS client built the way Huawei's generated SDK clients are: the
// official, unmodified @huaweicloud/huaweicloud-sdk-core (ClientBuilder,
// HcClient, BasicCredentials, its signer and HTTP client), with request
// definitions of our own. Each endpoint is one method naming its HTTP method,
// URL template and parameters; {project_id} is filled in by the core from
// the credentials, as for every project-scoped Huawei service.

import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient, HttpRequestOptions } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger.js';
import type { SdkResponse } from '@huaweicloud/huaweicloud-sdk-core/SdkResponse.js';
import { sdkDate } from './sdk-signing.js';

// The core logs every failed call to stdout, request headers included; the
// tests assert on the errors instead.
Logger4jInstance.level = 'off';

export interface OmsCall {
  path?: Record<string, string>;
  query?: Record<string, string | number | string[]>;
  /** A JSON body. */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class OmsClient {
  constructor(private readonly hcClient: HcClient) {}

  static newBuilder(): ClientBuilder<OmsClient> {
    return new ClientBuilder<OmsClient>((hcClient: HcClient) => new OmsClient(hcClient));
  }

  /** POST /v2/{project_id}/tasks/{task_id}/stop */
  stopTask(taskId: string, headers?: Record<string, string>): Promise<SdkResponse> {
    return this.send('POST', '/v2/{project_id}/tasks/{task_id}/stop', {
      path: { task_id: taskId },
      headers,
    });
  }

  /** POST /v2/{project_id}/tasks */
  createTask(
    body: Record<string, unknown>,
  ): Promise<SdkResponse & { id?: number; task_name?: string }> {
    return this.send('POST', '/v2/{project_id}/tasks', { body });
  }

  /** GET /v2/{project_id}/tasks/{task_id} */
  showTask(taskId: string): Promise<SdkResponse & Record<string, unknown>> {
    return this.send('GET', '/v2/{project_id}/tasks/{task_id}', { path: { task_id: taskId } });
  }

  /** GET /v2/{project_id}/tasks */
  listTasks(
    query: Record<string, string | number> = {},
  ): Promise<SdkResponse & { tasks?: { id: number; status: number }[]; count?: number }> {
    return this.send('GET', '/v2/{project_id}/tasks', { query });
  }

  /** POST /v2/{project_id}/tasks/{task_id}/start */
  startTask(taskId: string, body: Record<string, unknown>): Promise<SdkResponse> {
    return this.send('POST', '/v2/{project_id}/tasks/{task_id}/start', {
      path: { task_id: taskId },
      body,
    });
  }

  /** DELETE /v2/{project_id}/tasks/{task_id} */
  deleteTask(taskId: string): Promise<SdkResponse> {
    return this.send('DELETE', '/v2/{project_id}/tasks/{task_id}', { path: { task_id: taskId } });
  }

  /** PUT /v2/{project_id}/tasks/{task_id}/bandwidth-policy */
  updateBandwidthPolicy(taskId: string, body: Record<string, unknown>): Promise<SdkResponse> {
    return this.send('PUT', '/v2/{project_id}/tasks/{task_id}/bandwidth-policy', {
      path: { task_id: taskId },
      body,
    });
  }

  /** GET / */
  listApiVersions(): Promise<SdkResponse & { versions?: { id: string }[] }> {
    return this.send('GET', '/');
  }

  /** GET /v2 */
  showApiInfo(): Promise<SdkResponse & { id?: string }> {
    return this.send('GET', '/v2');
  }

  /**
   * POST /v2/{project_id}/tasks/batch-update; the body is BatchUpdateTasksReq:
   * group_id (str), ids (list[int]), bandwidth_policy (list[BandwidthPolicyDto],
   * required), task_priority (str).
   */
  batchUpdateTasks(body: {
    group_id?: string;
    ids?: number[];
    bandwidth_policy: { start: string; end: string; max_bandwidth: number }[];
    task_priority?: string;
  }): Promise<SdkResponse> {
    return this.send('POST', '/v2/{project_id}/tasks/batch-update', { body });
  }

  /** GET /v2/{project_id}/objectstorage/cloud-type?type= (ShowCloudTypeResponse: body list[str]) */
  showCloudType(type: string): Promise<SdkResponse> {
    return this.send('GET', '/v2/{project_id}/objectstorage/cloud-type', { query: { type } });
  }

  /**
   * GET /v2/{project_id}/objectstorage/data-center (ShowRegionInfoResponse:
   * body list[ShowRegionInfoResp {service_name, region_list: list[RegionInfo
   * {cloud_type, value, description}]}])
   */
  showRegionInfo(): Promise<SdkResponse> {
    return this.send('GET', '/v2/{project_id}/objectstorage/data-center');
  }

  // Task groups (CreateTaskGroup, ListTaskGroup, ShowTaskGroup, StopTaskGroup,
  // StartTaskGroup, RetryTaskGroup, UpdateTaskGroup, DeleteTaskGroup in the
  // official SDKs): the group actions are PUT.

  /** POST /v2/{project_id}/taskgroups (CreateTaskGroupReq) */
  createTaskGroup(body: Record<string, unknown>): Promise<SdkResponse & { group_id?: string }> {
    return this.send('POST', '/v2/{project_id}/taskgroups', { body });
  }

  /** GET /v2/{project_id}/taskgroups?limit&offset&status */
  listTaskGroup(
    query: { limit?: number; offset?: number; status?: number } = {},
  ): Promise<SdkResponse & { taskgroups?: Record<string, unknown>[]; count?: number }> {
    return this.send('GET', '/v2/{project_id}/taskgroups', { query });
  }

  /** GET /v2/{project_id}/taskgroups/{group_id} (ShowTaskGroupResponse) */
  showTaskGroup(groupId: string): Promise<SdkResponse & Record<string, unknown>> {
    return this.send('GET', '/v2/{project_id}/taskgroups/{group_id}', {
      path: { group_id: groupId },
    });
  }

  /** PUT /v2/{project_id}/taskgroups/{group_id}/stop */
  stopTaskGroup(groupId: string, headers?: Record<string, string>): Promise<SdkResponse> {
    return this.send('PUT', '/v2/{project_id}/taskgroups/{group_id}/stop', {
      path: { group_id: groupId },
      headers,
    });
  }

  /** PUT /v2/{project_id}/taskgroups/{group_id}/start (StartTaskGroupReq) */
  startTaskGroup(groupId: string, body: Record<string, unknown>): Promise<SdkResponse> {
    return this.send('PUT', '/v2/{project_id}/taskgroups/{group_id}/start', {
      path: { group_id: groupId },
      body,
    });
  }

  /** PUT /v2/{project_id}/taskgroups/{group_id}/retry (RetryTaskGroupReq) */
  retryTaskGroup(groupId: string, body: Record<string, unknown>): Promise<SdkResponse> {
    return this.send('PUT', '/v2/{project_id}/taskgroups/{group_id}/retry', {
      path: { group_id: groupId },
      body,
    });
  }

  /** PUT /v2/{project_id}/taskgroups/{group_id}/update (UpdateTaskGroupReq) */
  updateTaskGroup(groupId: string, body: Record<string, unknown>): Promise<SdkResponse> {
    return this.send('PUT', '/v2/{project_id}/taskgroups/{group_id}/update', {
      path: { group_id: groupId },
      body,
    });
  }

  /** DELETE /v2/{project_id}/taskgroups/{group_id} */
  deleteTaskGroup(groupId: string): Promise<SdkResponse> {
    return this.send('DELETE', '/v2/{project_id}/taskgroups/{group_id}', {
      path: { group_id: groupId },
    });
  }

  // The sync-task calls, as the official SDKs' oms_meta defines them
  // (GenReqDefFor*SyncTask*): paths, path and query fields, bodies.

  /** POST /v2/{project_id}/sync-tasks (body: CreateSyncTaskReq) */
  createSyncTask(body: Record<string, unknown>): Promise<SdkResponse & { sync_task_id?: string }> {
    return this.send('POST', '/v2/{project_id}/sync-tasks', { body });
  }

  /** GET /v2/{project_id}/sync-tasks?limit&offset&status */
  listSyncTasks(
    query: { limit?: number; offset?: number; status?: string } = {},
  ): Promise<SdkResponse & { tasks?: { sync_task_id: string; status: string }[]; count?: number }> {
    return this.send('GET', '/v2/{project_id}/sync-tasks', { query });
  }

  /** GET /v2/{project_id}/sync-tasks/{sync_task_id}?query_time */
  showSyncTask(
    syncTaskId: string,
    queryTime: string,
  ): Promise<SdkResponse & Record<string, unknown>> {
    return this.send('GET', '/v2/{project_id}/sync-tasks/{sync_task_id}', {
      path: { sync_task_id: syncTaskId },
      query: { query_time: queryTime },
    });
  }

  /** POST /v2/{project_id}/sync-tasks/{sync_task_id}/stop */
  stopSyncTask(syncTaskId: string, headers?: Record<string, string>): Promise<SdkResponse> {
    return this.send('POST', '/v2/{project_id}/sync-tasks/{sync_task_id}/stop', {
      path: { sync_task_id: syncTaskId },
      headers,
    });
  }

  /** POST /v2/{project_id}/sync-tasks/{sync_task_id}/start (body: StartSyncTaskReq) */
  startSyncTask(syncTaskId: string, body: Record<string, unknown>): Promise<SdkResponse> {
    return this.send('POST', '/v2/{project_id}/sync-tasks/{sync_task_id}/start', {
      path: { sync_task_id: syncTaskId },
      body,
    });
  }

  /** DELETE /v2/{project_id}/sync-tasks/{sync_task_id} */
  deleteSyncTask(syncTaskId: string): Promise<SdkResponse> {
    return this.send('DELETE', '/v2/{project_id}/sync-tasks/{sync_task_id}', {
      path: { sync_task_id: syncTaskId },
    });
  }

  /** GET /v2/{project_id}/sync-tasks/{sync_task_id}/statistics?data_type&start_time&end_time */
  listSyncTaskStatistic(
    syncTaskId: string,
    query: { data_type: string; start_time: string; end_time: string },
  ): Promise<SdkResponse & Record<string, unknown>> {
    return this.send('GET', '/v2/{project_id}/sync-tasks/{sync_task_id}/statistics', {
      path: { sync_task_id: syncTaskId },
      query,
    });
  }

  /** POST /v2/{project_id}/sync-tasks/{sync_task_id}/events (body: SyncObjectReq) */
  createSyncEvents(syncTaskId: string, body: { object_keys: string[] }): Promise<SdkResponse> {
    return this.send('POST', '/v2/{project_id}/sync-tasks/{sync_task_id}/events', {
      path: { sync_task_id: syncTaskId },
      body,
    });
  }

  /** Any endpoint: what a generated client's ParamCreater would build. */
  send<T extends object = object>(
    method: string,
    url: string,
    call: OmsCall = {},
  ): Promise<SdkResponse & T> {
    const options: HttpRequestOptions = {
      method,
      url,
      contentType: 'application/json',
      pathParams: { ...call.path },
      queryParams: { ...call.query },
      headers: { ...call.headers },
      data: call.body,
    };
    // The core answers with the parsed JSON body, httpStatusCode added.
    return this.hcClient.sendRequest(options) as Promise<SdkResponse & T>;
  }
}

/**
 * Headers that make a call the one an SDK would sign a second later. The
 * very same signed bytes sent again after they acted, within one second,
 * are a replay, refused (README, "Access-key signatures"); the SDK signs the
 * time to the second, so a test repeating a successful write at once says
 * when it signed.
 */
export function aSecondLater(): Record<string, string> {
  return { 'X-Sdk-Date': sdkDate(new Date(Date.now() + 1000)) };
}

export interface SdkCaller {
  accessKey: string;
  secretKey: string;
  projectId: string;
}

/** A client for the service at `endpoint` (http://127.0.0.1:port), signing as `caller`. */
export function omsClient(endpoint: string, caller: SdkCaller): OmsClient {
  const credentials = new BasicCredentials()
    .withAk(caller.accessKey)
    .withSk(caller.secretKey)
    .withProjectId(caller.projectId);
  return OmsClient.newBuilder().withCredential(credentials).withEndpoint(endpoint).build();
}

/** What the core throws for an error answer (ClientRequestException and kin). */
export interface SdkError {
  httpStatusCode?: number;
  errorCode?: string;
  errorMsg?: string;
  requestId?: string;
}

/** Runs a call that must fail and returns what the SDK surfaced. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('the SDK call succeeded; an error was expected');
}
