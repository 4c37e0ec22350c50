import { createRequire } from 'node:module';
import {
  getMetadataStorage,
  type ValidationArguments,
  ValidationTypes,
  type ValidatorConstraintInterface,
} from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';

/**
 * class-transformer's decorator metadata. The package has no public API for
 * it; @nestjs/mapped-types reads this same module. compiled-validator.spec.ts
 * fails loudly if an upgrade moves it.
 */
interface TransformerMetadataStorage {
  findTypeMetadata(target: object, property: string): { typeFunction: () => unknown } | undefined;
  findTransformMetadatas(target: object, property: string, type: number): unknown[];
  getExposedMetadatas(target: object): unknown[];
  getExcludedMetadatas(target: object): unknown[];
}
const transformerStorage = (
  createRequire(import.meta.url)('class-transformer/cjs/storage.js') as {
    defaultMetadataStorage: TransformerMetadataStorage;
  }
).defaultMetadataStorage;
/** class-transformer's TransformationType.PLAIN_TO_CLASS. */
const PLAIN_TO_CLASS = 0;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Class<T = object> = new (...args: any[]) => T;

interface Check {
  constraint: ValidatorConstraintInterface;
  /** Reused for every call: validation is synchronous, so one object per check is enough. */
  args: ValidationArguments;
  validateIf?: (object: object, value: unknown) => boolean;
}

interface PropertyPlan {
  name: string;
  /** `@Type(() => Number)` and the like, as class-transformer applies them. */
  convert?: (value: unknown) => unknown;
  /** @IsOptional / @ValidateIf: the property is checked only when they all hold. */
  conditions: Array<(object: object, value: unknown) => boolean>;
  /** @IsDefined: checked even when a condition skips the rest. */
  defined: Check[];
  checks: Check[];
}

/** Property names of an object, known once per class. */
interface Plan<T> {
  metatype: Class<T>;
  properties: PropertyPlan[];
}

/**
 * A DTO's class-validator rules compiled into a straight loop, for the requests
 * that pass them, which is nearly all of them. `accept()` answers what
 * class-transformer + class-validator would build for a valid input, with the
 * same decorators doing the checking, but without their per-call machinery
 * (metadata lookups, an error object per property, a promise per call): it
 * measured 30–50 µs per request on the hot routes, this a microsecond or two.
 *
 * It only ever says yes: for input that breaks a rule it answers undefined,
 * and the caller runs the libraries themselves, which produce the exact
 * errors. A class using anything not compiled here (nested validation, `each`,
 * groups, async constraints, @Transform, @Expose/@Exclude) gets no plan, so
 * it always takes the libraries' path. A property holding plain JSON data
 * with no rule of its own inside (an array checked for its size) is copied
 * as class-transformer copies it.
 */
export class CompiledValidator<T extends object> {
  private constructor(private readonly plan: Plan<T>) {}

  /** The compiled rules of `metatype`, or undefined when it uses something not compiled. */
  static for<T extends object>(metatype: Class<T>): CompiledValidator<T> | undefined {
    if (!plans.has(metatype)) {
      const plan = compile(metatype);
      plans.set(metatype, plan && new CompiledValidator(plan));
    }
    return plans.get(metatype) as CompiledValidator<T> | undefined;
  }

  /**
   * The instance class-transformer would make of `plain`, stripped to the
   * class's properties, if it passes every rule; else undefined.
   */
  accept(plain: unknown): T | undefined {
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return undefined;
    const source = plain as Record<string, unknown>;
    const instance = new this.plan.metatype() as Record<string, unknown>;
    for (const property of this.plan.properties) {
      if (!Object.hasOwn(source, property.name)) continue;
      const raw = source[property.name];
      if (typeof raw === 'object' && raw !== null) {
        // class-transformer copies an object or array deeply; a conversion (@Type) would apply to its items.
        const copy = property.convert ? NOT_PLAIN : copyPlain(raw, MAX_COPY_DEPTH);
        if (copy === NOT_PLAIN) return undefined;
        instance[property.name] = copy;
        continue;
      }
      instance[property.name] = property.convert ? property.convert(raw) : raw;
    }
    for (const property of this.plan.properties) {
      const value = instance[property.name];
      if (!property.conditions.every((condition) => condition(instance, value))) continue;
      if (!passes(property.defined, instance, value) || !passes(property.checks, instance, value)) {
        return undefined;
      }
    }
    return instance as T;
  }
}

const plans = new WeakMap<Class, CompiledValidator<object> | undefined>();

/** What copyPlain() answers for a value it leaves to the libraries. */
const NOT_PLAIN = Symbol('not plain');
/** Deeper values take the libraries' path; a JSON body nests this deep only to probe. */
const MAX_COPY_DEPTH = 16;

/**
 * The copy class-transformer makes of JSON data under a property with no type
 * to apply (an import's events, a list of strings): arrays and plain objects
 * copied, their `__proto__` and `constructor` keys left out as it leaves them
 * out. Without this, such a property sent the whole request through the
 * libraries: for a 1000-event import that was 30% of everything the app
 * allocated under load, and Nest's two walks of the body besides. Anything
 * else (a sparse array, which Nest closes first; a Date, a Buffer or another
 * class instance; deeper nesting) is NOT_PLAIN, and the libraries decide it.
 */
function copyPlain(value: object, depth: number): unknown {
  if (depth === 0) return NOT_PLAIN;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index += 1) {
      if (!(index in value)) return NOT_PLAIN;
      const item: unknown = value[index];
      copy[index] = typeof item === 'object' && item !== null ? copyPlain(item, depth - 1) : item;
      if (copy[index] === NOT_PLAIN) return NOT_PLAIN;
    }
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor') continue;
    const item: unknown = (value as Record<string, unknown>)[key];
    const copied = typeof item === 'object' && item !== null ? copyPlain(item, depth - 1) : item;
    if (copied === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = copied;
  }
  return copy;
}

function passes(checks: Check[], object: object, value: unknown): boolean {
  for (const check of checks) {
    if (check.validateIf && !check.validateIf(object, value)) continue;
    check.args.object = object;
    check.args.value = value;
    const valid = check.constraint.validate(value, check.args);
    // An async constraint: not decided here (compile() keeps these out; this is the net).
    if (valid !== true) return false;
  }
  return true;
}

/** Conversions of `@Type(() => X)` on a plain value, as class-transformer does them. */
const CONVERSIONS = new Map<unknown, (value: unknown) => unknown>([
  [Number, (value) => (value === null || value === undefined ? value : Number(value))],
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- what class-transformer does
  [String, (value) => (value === null || value === undefined ? value : String(value))],
  [Boolean, (value) => (value === null || value === undefined ? value : Boolean(value))],
]);

function compile<T extends object>(metatype: Class<T>): Plan<T> | undefined {
  const storage = getMetadataStorage();
  const metadatas: ValidationMetadata[] = storage.getTargetValidationMetadatas(
    metatype,
    '',
    false,
    false,
  );
  if (metadatas.length === 0) return undefined;
  if (
    transformerStorage.getExposedMetadatas(metatype).length > 0 ||
    transformerStorage.getExcludedMetadatas(metatype).length > 0
  ) {
    return undefined;
  }
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    if (typeof metadata.target === 'string' || metadata.each || metadata.groups?.length) {
      return undefined;
    }
    if (metadata.always !== undefined) return undefined;
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }

  const properties: PropertyPlan[] = [];
  for (const [name, list] of byProperty) {
    if (transformerStorage.findTransformMetadatas(metatype, name, PLAIN_TO_CLASS).length > 0) {
      return undefined;
    }
    const type = transformerStorage.findTypeMetadata(metatype, name);
    const convert = type ? CONVERSIONS.get(type.typeFunction()) : undefined;
    if (type && !convert) return undefined;
    const property: PropertyPlan = { name, convert, conditions: [], defined: [], checks: [] };
    for (const metadata of list) {
      switch (metadata.type) {
        case ValidationTypes.WHITELIST:
          break;
        case ValidationTypes.CONDITIONAL_VALIDATION:
          property.conditions.push(metadata.constraints[0] as PropertyPlan['conditions'][number]);
          break;
        case ValidationTypes.IS_DEFINED:
        case ValidationTypes.CUSTOM_VALIDATION: {
          const checks = checksOf(metatype, metadata);
          if (!checks) return undefined;
          (metadata.type === ValidationTypes.IS_DEFINED ? property.defined : property.checks).push(
            ...checks,
          );
          break;
        }
        default:
          // Nested and promise validation are not compiled.
          return undefined;
      }
    }
    properties.push(property);
  }
  return { metatype, properties };
}

function checksOf(metatype: Class, metadata: ValidationMetadata): Check[] | undefined {
  const constraints = getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls);
  if (constraints.length === 0 || constraints.some((constraint) => constraint.async)) {
    return undefined;
  }
  return constraints.map((constraint) => ({
    constraint: constraint.instance,
    args: {
      targetName: metatype.name,
      property: metadata.propertyName,
      object: {},
      value: undefined,
      constraints: metadata.constraints,
    },
    validateIf: metadata.validateIf,
  }));
}
