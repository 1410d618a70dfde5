import type * as Undici from 'undici';
import connectModule from 'undici/lib/core/connect.js';
import agentModule from 'undici/lib/dispatcher/agent.js';
import fetchModule from 'undici/lib/web/fetch/index.js';

/**
 * The three parts of undici that the guarded fetch uses, each imported from its own module.
 * undici's package entry requires every feature (mock agents, cache stores, WebSocket,
 * EventSource, proxy agents), and esbuild keeps every `require` of CommonJS code. Importing the
 * entry therefore put 720 KB of undici into each bundle that fetches; these modules need 350 KB.
 *
 * NOTE: the paths are undici's file layout (checked with undici 8.14), not its public API. An
 * upgrade that moves a file fails type checking, bundling and the HTTP tests; nothing breaks
 * silently at run time.
 */

export const Agent: typeof Undici.Agent = agentModule;
export type Agent = Undici.Agent;

export const buildConnector: typeof Undici.buildConnector = connectModule;

export const fetch: typeof Undici.fetch = fetchModule.fetch;
