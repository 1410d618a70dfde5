// Types for the undici modules that `undici.ts` imports directly, because the package declares
// only its entry point. Each module's CommonJS export is the matching export of the entry.

declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: typeof import('undici').Agent;
  export = Agent;
}

declare module 'undici/lib/core/connect.js' {
  const buildConnector: typeof import('undici').buildConnector;
  export = buildConnector;
}

declare module 'undici/lib/web/fetch/index.js' {
  const fetchModule: { fetch: typeof import('undici').fetch };
  export = fetchModule;
}
