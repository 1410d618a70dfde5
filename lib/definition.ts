/**
 * Extracts the state machine definition (Amazon States Language) from a synthesized
 * CloudFormation template, so the local runtime can execute exactly what would be deployed.
 */

/** Region and account written into resolved ARNs. They only need to be well-formed. */
export const placeholderRegion = 'us-east-1';
export const placeholderAccount = '123456789012';
export const placeholderPartition = 'aws';

/** A state machine definition as parsed from the template. */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

/** One state of a definition, with types for the fields this module reads. */
export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: AslDefinition;
  Iterator?: AslDefinition;
  Branches?: AslDefinition[];
  [field: string]: unknown;
}

export interface ExtractedDefinition {
  definition: AslDefinition;
  /** Logical ID of the Lambda function each Task state invokes, by state name (Map item states included). */
  functionLogicalIds: Record<string, string>;
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** Builds the ARN that replaces a Lambda function's `Fn::GetAtt [id, Arn]` in a resolved definition. */
export function placeholderLambdaArn(logicalId: string): string {
  return `arn:${placeholderPartition}:lambda:${placeholderRegion}:${placeholderAccount}:function:${logicalId}`;
}

const lambdaArnPrefix = placeholderLambdaArn('');

function resourcesOf(template: object): Record<string, TemplateResource> {
  const resources = (template as { Resources?: unknown }).Resources;
  if (typeof resources !== 'object' || resources === null) {
    throw new Error('Invalid CloudFormation template: it has no Resources section.');
  }
  return resources as Record<string, TemplateResource>;
}

function findStateMachine(
  resources: Record<string, TemplateResource>,
  logicalIdPrefix: string | undefined,
): [string, TemplateResource] {
  const matches = Object.entries(resources).filter(
    ([logicalId, resource]) =>
      resource.Type === 'AWS::StepFunctions::StateMachine' &&
      (logicalIdPrefix === undefined || logicalId.startsWith(logicalIdPrefix)),
  );
  const [first] = matches;
  if (first === undefined) {
    throw new Error(
      `No AWS::StepFunctions::StateMachine resource${logicalIdPrefix ? ` with a logical ID starting with "${logicalIdPrefix}"` : ''} found in the template.`,
    );
  }
  if (matches.length > 1) {
    const ids = matches.map(([logicalId]) => logicalId).join(', ');
    throw new Error(
      `The template has several state machines (${ids}). Pass a logical ID prefix to choose one.`,
    );
  }
  return first;
}

/** Replaces one CloudFormation token with a string that can stand in the definition JSON. */
function resolveToken(token: unknown, resources: Record<string, TemplateResource>): string {
  if (typeof token === 'string') {
    return token;
  }
  if (typeof token === 'object' && token !== null) {
    if ('Fn::GetAtt' in token) {
      const [logicalId, attribute] = token['Fn::GetAtt'] as [string, string];
      if (attribute === 'Arn' && resources[logicalId]?.Type === 'AWS::Lambda::Function') {
        return placeholderLambdaArn(logicalId);
      }
      return `placeholder:${logicalId}.${attribute}`;
    }
    if ('Ref' in token) {
      const name = String(token.Ref);
      const pseudo: Record<string, string> = {
        'AWS::Region': placeholderRegion,
        'AWS::AccountId': placeholderAccount,
        'AWS::Partition': placeholderPartition,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[name] ?? `placeholder:${name}`;
    }
  }
  throw new Error(`Unsupported token in DefinitionString: ${JSON.stringify(token)}.`);
}

function resolveDefinitionString(value: unknown, resources: Record<string, TemplateResource>): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'object' && value !== null && 'Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveToken(part, resources)).join(separator);
  }
  throw new Error(`Unsupported DefinitionString form: ${JSON.stringify(value).slice(0, 200)}.`);
}

function collectFunctionLogicalIds(definition: AslDefinition, into: Record<string, string>): void {
  for (const [name, state] of Object.entries(definition.States)) {
    const functionArn =
      state.Resource?.startsWith(lambdaArnPrefix) === true ? state.Resource : state.Parameters?.FunctionName;
    if (state.Type === 'Task' && typeof functionArn === 'string' && functionArn.startsWith(lambdaArnPrefix)) {
      into[name] = functionArn.slice(lambdaArnPrefix.length);
    }
    const nested = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])];
    for (const child of nested) {
      if (child !== undefined) {
        collectFunctionLogicalIds(child, into);
      }
    }
  }
}

/**
 * Finds the state machine in a synthesized template and returns its parsed definition, with
 * every Lambda function ARN replaced by `placeholderLambdaArn(logicalId)` and every other
 * token by a `placeholder:` string.
 *
 * @param template - the CloudFormation template as a parsed object (`Template.toJSON()` or the `.template.json` file)
 * @param stateMachineLogicalIdPrefix - selects the state machine when the template has several
 * @throws Error when no single state machine matches or the definition uses an unsupported token
 */
export function definitionFromTemplate(
  template: object,
  stateMachineLogicalIdPrefix?: string,
): ExtractedDefinition {
  const resources = resourcesOf(template);
  const [logicalId, stateMachine] = findStateMachine(resources, stateMachineLogicalIdPrefix);
  const text = resolveDefinitionString(stateMachine.Properties?.DefinitionString, resources);

  let definition: AslDefinition;
  try {
    definition = JSON.parse(text) as AslDefinition;
  } catch (error) {
    throw new Error(`The definition of ${logicalId} is not valid JSON after resolving its tokens.`, {
      cause: error,
    });
  }

  const functionLogicalIds: Record<string, string> = {};
  collectFunctionLogicalIds(definition, functionLogicalIds);
  return { definition, functionLogicalIds };
}
