import { resolve } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { PhoneNumbersModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { GatewaysModule } from '@app/gateways';
import { LiveModule, WebPageModule } from '@app/live';
import { MessagingModule } from '@app/messaging';
import { ObservabilityModule } from '@app/observability';
import { OutboundModule } from '@app/outbound';
import { PrivacyModule } from '@app/privacy';
import { WebhooksModule } from '@app/webhooks';
import { configModule } from './config/environment.js';

export interface AppModuleOptions {
  /** Variables that win over process.env; lets tests run several apps in one process. */
  env?: Record<string, string | undefined>;
}

@Module({})
export class AppModule {
  static register(options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        configModule(options.env),
        PhoneNumbersModule,
        DatabaseModule,
        AuthModule,
        MessagingModule,
        OutboundModule,
        GatewaysModule,
        LiveModule,
        PrivacyModule,
        WebhooksModule,
        ObservabilityModule,
        // The conversations page (apps/web), built next to the API by `npm run build`.
        WebPageModule.register({ rootPath: resolve('dist/web') }),
      ],
    };
  }
}
