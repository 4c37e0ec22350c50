import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  ConversationQueryDto,
  ImportEventDto,
  ImportRequestDto,
  MAX_IMPORT_EVENTS,
  SmsEventDto,
} from '@app/messaging';
import { buildSmsEvent } from '../../../../test/factories/sms-event.factory.js';
import { CompiledValidator } from './compiled-validator.js';

class QueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number = 10;

  @IsOptional()
  @IsString()
  @MaxLength(8)
  before?: string;
}

class TrimmedDto {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  name: string;
}

class NestedDto {
  @ValidateNested()
  @Type(() => QueryDto)
  query: QueryDto;
}

/** What class-transformer + class-validator make of `plain` (with the app's pipe options), or undefined. */
function byTheLibraries<T extends object>(metatype: new () => T, plain: object): T | undefined {
  const instance = plainToInstance(metatype, plain);
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: true });
  return errors.length === 0 ? instance : undefined;
}

describe('CompiledValidator', () => {
  it('builds the same instance as the libraries for valid input, defaults and conversions included', () => {
    const validator = CompiledValidator.for(QueryDto)!;
    for (const plain of [{}, { limit: '5' }, { before: 'abc' }, { limit: '50', before: '' }]) {
      const compiled = validator.accept(plain);
      expect(compiled).toBeInstanceOf(QueryDto);
      expect(compiled).toEqual(byTheLibraries(QueryDto, plain));
    }
    expect(validator.accept({})).toEqual({ limit: 10 });
  });

  it('strips properties the class does not declare', () => {
    const event = { ...buildSmsEvent(), admin: true, __proto__: { polluted: true } };
    const compiled = CompiledValidator.for(SmsEventDto)!.accept(JSON.parse(JSON.stringify(event)));
    expect(compiled).toBeInstanceOf(SmsEventDto);
    expect(compiled).not.toHaveProperty('admin');
    expect(Object.keys(compiled!).sort()).toEqual(
      ['messageText', 'receiverPhone', 'senderPhone', 'timestamp', 'uuid'].sort(),
    );
  });

  it('says no, for the libraries to explain, wherever a rule is broken', () => {
    const cases: Array<[new () => object, object]> = [
      [QueryDto, { limit: '0' }],
      [QueryDto, { limit: 'ten' }],
      [QueryDto, { limit: ['1', '2'] }],
      [QueryDto, { before: 'far too long' }],
      [SmsEventDto, { ...buildSmsEvent(), uuid: 'not-a-uuid' }],
      [SmsEventDto, { ...buildSmsEvent(), timestamp: 1.5 }],
      [SmsEventDto, { ...buildSmsEvent(), timestamp: Date.now() }],
      [SmsEventDto, { ...buildSmsEvent(), messageText: '' }],
      [SmsEventDto, { ...buildSmsEvent(), messageText: 'x'.repeat(1601) }],
      [SmsEventDto, { ...buildSmsEvent(), senderPhone: 12025550143 }],
      [SmsEventDto, { ...buildSmsEvent(), receiverPhone: { nested: true } }],
      [SmsEventDto, { senderPhone: '+12025550143' }],
      [ImportEventDto, { ...buildSmsEvent(), type: 'deleted' }],
      [ImportEventDto, buildSmsEvent()],
      [ImportRequestDto, { events: [] }],
      [ImportRequestDto, { events: 'all of them' }],
      [ImportRequestDto, { events: { 0: buildSmsEvent() } }],
      [ImportRequestDto, { events: Array.from({ length: MAX_IMPORT_EVENTS + 1 }, () => ({})) }],
    ];
    for (const [metatype, plain] of cases) {
      expect(byTheLibraries(metatype, plain), JSON.stringify(plain)).toBeUndefined();
      expect(CompiledValidator.for(metatype)!.accept(plain), JSON.stringify(plain)).toBeUndefined();
    }
  });

  it('agrees with the libraries on the app DTOs for valid input', () => {
    const event = buildSmsEvent({ messageText: 'emoji 🙂 and ünïcödé' });
    for (const [metatype, plain] of [
      [SmsEventDto, event],
      [ImportEventDto, { ...event, type: 'received' }],
      [ConversationQueryDto, { limit: '100', before: 'cursor' }],
    ] as Array<[new () => object, object]>) {
      expect(CompiledValidator.for(metatype)!.accept(plain)).toEqual(
        byTheLibraries(metatype, plain),
      );
    }
  });

  it('copies JSON data under a property as class-transformer does, prototype keys left out', () => {
    const events = [
      { ...buildSmsEvent(), type: 'sent' },
      'not an event',
      null,
      { nested: { list: [1, 'two', { three: true }] } },
    ];
    const body = JSON.parse(
      JSON.stringify({ events, extra: 1 }).replace(
        '{"nested"',
        '{"__proto__":{"polluted":true},"nested"',
      ),
    ) as { events: unknown[] };
    expect(Object.hasOwn(body.events[3] as object, '__proto__')).toBe(true);
    const compiled = CompiledValidator.for(ImportRequestDto)!.accept(body);
    expect(compiled).toBeInstanceOf(ImportRequestDto);
    expect(compiled).toEqual(byTheLibraries(ImportRequestDto, body));
    expect(compiled).toEqual({ events });
    expect(Object.hasOwn(compiled!.events[3], '__proto__')).toBe(false);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    // A copy: what the handler does to it leaves the request's body alone.
    expect(compiled!.events[0]).not.toBe(body.events[0]);
  });

  it('leaves to the libraries the data it does not copy', () => {
    const validator = CompiledValidator.for(ImportRequestDto)!;
    let deep: unknown = 'bottom';
    for (let level = 0; level < 20; level += 1) deep = [deep];
    const sparse: unknown[] = [buildSmsEvent()];
    sparse[2] = buildSmsEvent();
    for (const events of [sparse, [new Date()], [Buffer.from('x')], deep]) {
      expect(validator.accept({ events })).toBeUndefined();
    }
  });

  it('refuses a value that is not an object', () => {
    const validator = CompiledValidator.for(SmsEventDto)!;
    for (const plain of [null, undefined, 'text', 42, [buildSmsEvent()]]) {
      expect(validator.accept(plain)).toBeUndefined();
    }
  });

  it('compiles no plan for what it does not handle, so those classes always take the libraries', () => {
    expect(CompiledValidator.for(TrimmedDto)).toBeUndefined();
    expect(CompiledValidator.for(NestedDto)).toBeUndefined();
    class Undecorated {
      name?: string;
    }
    expect(CompiledValidator.for(Undecorated)).toBeUndefined();
  });

  it("reads class-transformer's metadata where it is (an upgrade that moves it fails here)", () => {
    // If the storage module moved, @Type would be invisible and "5" would stay a string.
    expect(CompiledValidator.for(QueryDto)!.accept({ limit: '5' })).toEqual({ limit: 5 });
  });
});
