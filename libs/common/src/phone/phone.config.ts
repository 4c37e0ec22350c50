import { IsString, Matches } from 'class-validator';
import { configNamespace } from '../config/config-namespace.js';
import { type CountryCode, isValidCountryCode } from './party-address.js';

export class PhoneVariables {
  /** The country assumed for numbers written without `+` and a country code. */
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'DEFAULT_COUNTRY must be a two-letter ISO country code' })
  DEFAULT_COUNTRY: string = 'US';
}

export const phoneConfig = configNamespace('phone', PhoneVariables, {
  rules: (env) => [
    !isValidCountryCode(env.DEFAULT_COUNTRY) &&
      `DEFAULT_COUNTRY ${env.DEFAULT_COUNTRY} is not a country libphonenumber knows`,
  ],
  values: (env) => ({ defaultCountry: env.DEFAULT_COUNTRY as CountryCode }),
});
