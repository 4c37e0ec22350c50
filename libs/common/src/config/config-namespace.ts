import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { type ConfigFactory, type ConfigFactoryKeyHost, registerAs } from '@nestjs/config';

/** Variables as the environment holds them: strings, or values already typed (in tests). */
export type Environment = Record<string, unknown>;

/** The variables a class declares: each carries at least one validation decorator. */
export function variableNames(variables: ClassConstructor<object>): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(variables, '', true, false);
  return [...new Set(metadata.map(({ propertyName }) => propertyName))];
}

/**
 * `env` read as `variables`: converted to their types, defaults (the class's
 * initialisers) filled in, checked by their decorators. The problems name
 * their variable.
 */
export function checkVariables<V extends object>(
  variables: ClassConstructor<V>,
  env: Environment,
): { variables: V; problems: string[] } {
  const instance = plainToInstance(variables, env, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(instance, { skipMissingProperties: false });
  // The instance holds every variable of `env`; only the declared ones are the class's.
  const declared = Object.fromEntries(
    variableNames(variables).map((name) => [name, instance[name as keyof V]]),
  ) as V;
  return {
    variables: declared,
    problems: errors.flatMap((error) => Object.values(error.constraints ?? {})),
  };
}

/** What a namespace gives the code that injects it. */
type Values = Record<string, unknown>;

export interface NamespaceDefinition<V, T> {
  /** The values the lib reads, from its validated variables. */
  values: (env: V) => T;
  /**
   * Rules no decorator can state (between variables, per NODE_ENV): each a
   * message naming its variable when broken, else false.
   */
  rules?: (env: V) => Array<string | false>;
}

export type ConfigNamespace<V, T extends Values> = ConfigFactory<T> &
  ConfigFactoryKeyHost<T> & {
    readonly variables: ClassConstructor<V>;
    /** What is wrong with `env` for this namespace: its decorators' problems and its rules'. */
    check(env: Environment): { variables: V; problems: string[] };
    /** The namespace's values from `env`; throws, naming each bad variable, when it is invalid. */
    read(env: Environment): T;
    /**
     * The same namespace read from `env()` instead of process.env. Each app
     * gives its own: tests run several apps in one process, each with its own
     * variables.
     */
    from(env: () => Environment): ConfigFactory<T> & ConfigFactoryKeyHost<T>;
  };

/**
 * A `registerAs` namespace over one class of variables, validated when it is
 * read, e.g. `@Inject(authConfig.KEY) config: ConfigType<typeof authConfig>`.
 */
export function configNamespace<V extends object, T extends Values>(
  token: string,
  variables: ClassConstructor<V>,
  { values, rules = () => [] }: NamespaceDefinition<V, T>,
): ConfigNamespace<V, T> {
  const check = (env: Environment) => {
    const checked = checkVariables(variables, env);
    const broken = rules(checked.variables).filter((rule) => rule !== false);
    return { variables: checked.variables, problems: [...checked.problems, ...broken] };
  };
  const read = (env: Environment): T => {
    const { variables: valid, problems } = check(env);
    if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
    return values(valid);
  };
  const from = (env: () => Environment) => registerAs(token, () => read(env()));
  return Object.assign(
    from(() => process.env),
    { variables, check, read, from },
  );
}
