export { SandboxError, SandboxOptionsError, ScenarioError } from './errors';
export type { Scenario, ScenarioInput } from './scenario-schema';
export { scenarioSchema } from './scenario-schema';
export { listScenarios, loadScenario, parseScenario } from './scenarios';
export type { Sandbox, SandboxOptions, SandboxRequest, SubmittedJob } from './server';
export { startSandbox } from './server';
