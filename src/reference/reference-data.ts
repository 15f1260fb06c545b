// OMS's reference data, static: the cloud types a task may copy from and to,
// and the regions of each source cloud a console offers. Nothing here is
// read from a cloud; it is a list kept by hand, short on purpose (the public
// regions of each cloud under their own API names), and what a task's
// src_node.region may hold is not limited to it.

/** Source clouds, as the contract page lists them (src_node.cloud_type). */
export const SOURCE_CLOUD_TYPES = [
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
] as const;

/** Destinations: OMS copies into OBS only. */
export const DESTINATION_CLOUD_TYPES = ['HuaweiCloud'] as const;

export interface RegionInfo {
  readonly cloud_type: string;
  /** The region's name in that cloud's API. */
  readonly value: string;
  readonly description: string;
}

export interface DataCenter {
  readonly service_name: string;
  readonly region_list: readonly RegionInfo[];
}

const regions = (cloudType: string, list: readonly (readonly [string, string])[]) =>
  list.map(([value, description]) => ({ cloud_type: cloudType, value, description }));

/** One entry per cloud that has regions (URL sources have none). */
export const DATA_CENTERS: readonly DataCenter[] = [
  {
    service_name: 'AWS',
    region_list: regions('AWS', [
      ['us-east-1', 'US East (N. Virginia)'],
      ['us-west-2', 'US West (Oregon)'],
      ['eu-west-1', 'Europe (Ireland)'],
      ['eu-central-1', 'Europe (Frankfurt)'],
      ['ap-southeast-1', 'Asia Pacific (Singapore)'],
      ['ap-northeast-1', 'Asia Pacific (Tokyo)'],
    ]),
  },
  {
    service_name: 'Azure',
    region_list: regions('Azure', [
      ['eastus', 'East US'],
      ['westeurope', 'West Europe'],
      ['southeastasia', 'Southeast Asia'],
    ]),
  },
  {
    service_name: 'Aliyun',
    region_list: regions('Aliyun', [
      ['cn-hangzhou', 'China (Hangzhou)'],
      ['cn-shanghai', 'China (Shanghai)'],
      ['cn-beijing', 'China (Beijing)'],
      ['cn-shenzhen', 'China (Shenzhen)'],
      ['cn-hongkong', 'China (Hong Kong)'],
      ['ap-southeast-1', 'Singapore'],
    ]),
  },
  {
    service_name: 'Tencent',
    region_list: regions('Tencent', [
      ['ap-guangzhou', 'South China (Guangzhou)'],
      ['ap-shanghai', 'East China (Shanghai)'],
      ['ap-beijing', 'North China (Beijing)'],
      ['ap-hongkong', 'Hong Kong, China'],
      ['ap-singapore', 'Singapore'],
    ]),
  },
  {
    service_name: 'HuaweiCloud',
    region_list: regions('HuaweiCloud', [
      ['cn-north-4', 'CN North-Beijing4'],
      ['cn-east-3', 'CN East-Shanghai1'],
      ['cn-south-1', 'CN South-Guangzhou'],
      ['ap-southeast-1', 'CN-Hong Kong'],
      ['ap-southeast-3', 'AP-Singapore'],
    ]),
  },
  {
    service_name: 'QingCloud',
    region_list: regions('QingCloud', [
      ['pek3', 'Beijing 3'],
      ['sh1', 'Shanghai 1'],
      ['gd2', 'Guangdong 2'],
    ]),
  },
  {
    service_name: 'KingsoftCloud',
    region_list: regions('KingsoftCloud', [
      ['BEIJING', 'Beijing'],
      ['SHANGHAI', 'Shanghai'],
      ['GUANGZHOU', 'Guangzhou'],
    ]),
  },
  {
    service_name: 'Baidu',
    region_list: regions('Baidu', [
      ['bj', 'North China (Beijing)'],
      ['gz', 'South China (Guangzhou)'],
      ['su', 'East China (Suzhou)'],
    ]),
  },
  {
    service_name: 'Qiniu',
    region_list: regions('Qiniu', [
      ['z0', 'East China (Zhejiang)'],
      ['z1', 'North China (Hebei)'],
      ['z2', 'South China (Guangdong)'],
    ]),
  },
  {
    service_name: 'Google',
    region_list: regions('Google', [
      ['us-central1', 'Iowa'],
      ['europe-west1', 'Belgium'],
      ['asia-east1', 'Taiwan'],
    ]),
  },
  {
    service_name: 'UCloud',
    region_list: regions('UCloud', [
      ['cn-bj2', 'Beijing 2'],
      ['cn-sh2', 'Shanghai 2'],
      ['cn-gd', 'Guangzhou'],
    ]),
  },
];
