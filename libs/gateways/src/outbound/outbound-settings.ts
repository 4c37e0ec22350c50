import { HttpStatus } from '@nestjs/common';
import { ApiException, type ErrorDetail } from '@app/common';
import type { GatewayProviderName } from '../gateway-provider-name.js';
import type { OutboundSettingsDto } from '../dto/outbound.dto.js';

export const DEFAULT_RATE_PER_SECOND = 10;
export const DEFAULT_SMPP_PORT = 2775;

/** What `outbound` stores in clear and the API shows: never a credential. */
export type OutboundSettings =
  | {
      provider: 'smpp';
      /** `smpp://<system_id>@<host>:<port>`: the given URL without its password. */
      url: string;
      host: string;
      port: number;
      systemId: string;
      systemType?: string;
      ratePerSecond: number;
    }
  | { provider: 'android-sms-gateway'; url: string; username: string; ratePerSecond: number }
  | {
      provider: 'twilio';
      accountSid: string;
      ratePerSecond: number;
      /** The connection's webhook, as Twilio's StatusCallback; fixed when it was created. */
      statusCallbackUrl: string;
    };

/** The credentials sealed next to the settings; Twilio's auth token is the connection's secret. */
export interface OutboundCredentials {
  password?: string;
}

/** Which fields each provider's `outbound` takes; the rest are refused, so a typo is not ignored. */
const FIELDS: Record<OutboundSettings['provider'], ReadonlyArray<keyof OutboundSettingsDto>> = {
  smpp: ['url', 'systemType', 'ratePerSecond'],
  'android-sms-gateway': ['url', 'username', 'password', 'ratePerSecond'],
  twilio: ['accountSid', 'ratePerSecond'],
};
const REQUIRED: Record<OutboundSettings['provider'], ReadonlyArray<keyof OutboundSettingsDto>> = {
  smpp: ['url'],
  'android-sms-gateway': ['url', 'username', 'password'],
  twilio: ['accountSid'],
};

/**
 * A validated `outbound` object split into what is shown and what is sealed;
 * a 400 naming each field that does not fit the provider's shape.
 */
export function readOutboundSettings(
  provider: GatewayProviderName,
  input: OutboundSettingsDto,
  webhookUrl: string,
): { settings: OutboundSettings; credentials: OutboundCredentials } {
  if (provider === 'textbee') {
    throw ApiException.field(
      HttpStatus.BAD_REQUEST,
      'outbound',
      'is not supported for textbee (it sends through its own app)',
    );
  }
  const problems: ErrorDetail[] = [];
  for (const field of Object.keys(input) as Array<keyof OutboundSettingsDto>) {
    if (input[field] !== undefined && !FIELDS[provider].includes(field)) {
      problems.push({ field: `outbound.${field}`, problem: `is not a ${provider} setting` });
    }
  }
  for (const field of REQUIRED[provider]) {
    if (input[field] === undefined) {
      problems.push({ field: `outbound.${field}`, problem: `is required for ${provider}` });
    }
  }
  if (problems.length > 0) throw ApiException.invalid(problems);
  const ratePerSecond = input.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;

  switch (provider) {
    case 'smpp': {
      const url = parseSmppUrl(input.url!);
      return {
        settings: {
          provider,
          url: `smpp://${encodeURIComponent(url.systemId)}@${url.host}:${url.port}`,
          host: url.host,
          port: url.port,
          systemId: url.systemId,
          ...(input.systemType !== undefined ? { systemType: input.systemType } : {}),
          ratePerSecond,
        },
        credentials: { password: url.password },
      };
    }
    case 'android-sms-gateway':
      return {
        settings: {
          provider,
          url: input.url!.replace(/\/+$/, ''),
          username: input.username!,
          ratePerSecond,
        },
        credentials: { password: input.password },
      };
    case 'twilio':
      return {
        settings: {
          provider,
          accountSid: input.accountSid!,
          ratePerSecond,
          statusCallbackUrl: webhookUrl,
        },
        credentials: {},
      };
  }
}

/** `smpp://<system_id>:<password>@<host>:<port>`; a 400 on `outbound.url` otherwise. */
export function parseSmppUrl(value: string): {
  systemId: string;
  password: string;
  host: string;
  port: number;
} {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw smppUrlProblem();
  }
  if (url.protocol !== 'smpp:' || !url.username || !url.hostname || url.pathname.length > 1) {
    throw smppUrlProblem();
  }
  const systemId = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  // SMPP 3.4 §5.2.1 and §5.2.2: system_id at most 15 octets, password at most 8.
  if (systemId.length > 15 || password.length > 8) {
    throw ApiException.field(
      HttpStatus.BAD_REQUEST,
      'outbound.url',
      'carries a system_id over 15 or a password over 8 characters (SMPP 3.4 limits)',
    );
  }
  return {
    systemId,
    password,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : DEFAULT_SMPP_PORT,
  };
}

function smppUrlProblem(): ApiException {
  return ApiException.field(
    HttpStatus.BAD_REQUEST,
    'outbound.url',
    'must be smpp://<system_id>:<password>@<host>:<port>',
  );
}

/** What the API shows of the settings: the stored public part, without the internal fields. */
export function publicOutbound(settings: OutboundSettings): Record<string, unknown> {
  switch (settings.provider) {
    case 'smpp':
      return {
        url: settings.url,
        ...(settings.systemType !== undefined ? { systemType: settings.systemType } : {}),
        ratePerSecond: settings.ratePerSecond,
      };
    case 'android-sms-gateway':
      return {
        url: settings.url,
        username: settings.username,
        ratePerSecond: settings.ratePerSecond,
      };
    case 'twilio':
      return { accountSid: settings.accountSid, ratePerSecond: settings.ratePerSecond };
  }
}
