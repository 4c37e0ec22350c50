import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ConversationQueryDto, ImportEventDto, SmsEventDto } from '@app/messaging';
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
