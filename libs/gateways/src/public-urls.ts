import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { gatewaysConfig } from './gateways.config.js';

/**
 * Where the outside world reaches the service: PUBLIC_BASE_URL when set,
 * else the origin a request came to (which honours X-Forwarded-Proto/Host
 * only with TRUST_PROXY). Webhook URLs shown to users and the URL Twilio's
 * signature covers both come from here, so they always agree.
 */
@Injectable()
export class PublicUrls {
  private readonly base: string | undefined;

  constructor(@Inject(gatewaysConfig.KEY) config: ConfigType<typeof gatewaysConfig>) {
    this.base = config.publicBaseUrl?.replace(/\/+$/, '') || undefined;
  }

  /** e.g. `https://sms.example.com`, without a trailing slash. */
  baseUrl(requestOrigin: string): string {
    return this.base ?? requestOrigin;
  }

  webhookUrl(gatewayId: string, requestOrigin: string): string {
    return `${this.baseUrl(requestOrigin)}/api/gateways/${gatewayId}/webhook`;
  }
}
