import { IsOptional, Matches, MaxLength } from 'class-validator';
import { AppVariables, configNamespace } from '@app/common';

/** A secrets key: 64 hex digits, or base64 (standard or url-safe) of 32 bytes. */
const SECRETS_KEY = '(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)';
const secretsKeyMessage = (name: string) =>
  `${name} must be 32 bytes as base64 (openssl rand -base64 32) or 64 hex digits`;

export class GatewaysVariables extends AppVariables {
  /**
   * Seals gateway signing secrets (AES-256-GCM): 32 bytes as base64 or 64 hex digits.
   * Required in production; in development one is generated and kept in DATA_DIR.
   */
  @IsOptional()
  @Matches(new RegExp(`^${SECRETS_KEY}$`), { message: secretsKeyMessage('SECRETS_KEY') })
  SECRETS_KEY?: string;

  /** During a rotation: the former SECRETS_KEY values, comma-separated, which still open secrets. */
  @IsOptional()
  @Matches(new RegExp(`^${SECRETS_KEY}(,${SECRETS_KEY})*$`), {
    message: secretsKeyMessage('SECRETS_KEY_PREVIOUS'),
  })
  SECRETS_KEY_PREVIOUS?: string;

  /** The URL gateways reach the service at, e.g. https://sms.example.com; unset: each request's own origin. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'PUBLIC_BASE_URL must be an http(s) URL without query, e.g. https://sms.example.com',
  })
  @MaxLength(2048)
  PUBLIC_BASE_URL?: string;
}

export const gatewaysConfig = configNamespace('gateways', GatewaysVariables, {
  rules: (env) => [
    env.NODE_ENV === 'production' &&
      !env.SECRETS_KEY &&
      'SECRETS_KEY must be set in production (openssl rand -base64 32)',
  ],
  values: (env) => ({
    secretsKey: env.SECRETS_KEY,
    previousKeys: env.SECRETS_KEY_PREVIOUS,
    nodeEnv: env.NODE_ENV,
    dataDir: env.DATA_DIR,
    publicBaseUrl: env.PUBLIC_BASE_URL,
  }),
});
