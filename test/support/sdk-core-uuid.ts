// @huaweicloud/huaweicloud-sdk-core 3.1.211 requires the `uuid` package (for
// the application id in its User-Agent) without listing it among its
// dependencies, so `npm ci` does not install it and loading ClientBuilder
// fails. Until the project lists `uuid` itself, this supplies the one
// function the core calls, through Node's CommonJS resolver, and only when
// the real package cannot be found. The SDK's own files stay untouched.
// Imported for its effect, before anything from the SDK core.

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sdkCore = require.resolve('@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js');

function resolvable(name: string): boolean {
  try {
    require.resolve(name, { paths: [sdkCore] });
    return true;
  } catch {
    return false;
  }
}

interface CjsModule {
  filename: string;
  loaded: boolean;
  exports: unknown;
}
interface CjsModuleClass {
  new (id: string): CjsModule;
  _resolveFilename(request: string, ...rest: unknown[]): string;
}

if (!resolvable('uuid')) {
  const Module = require('node:module') as CjsModuleClass;
  const stand = `${sdkCore}#uuid`;
  const module = new Module(stand);
  module.filename = stand;
  module.loaded = true;
  module.exports = { v4: () => randomUUID() };
  require.cache[stand] = module as unknown as NodeJS.Module;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'uuid' ? stand : resolve.call(this, request, ...rest);
  };
}
