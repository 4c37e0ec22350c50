import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DatabaseModule } from '@app/database';
import { MessagingModule } from '@app/messaging';
import { validateEnvironment } from './config/environment.js';

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
        ConfigModule.forRoot({
          isGlobal: true,
          cache: true,
          validate: (env) => validateEnvironment({ ...env, ...options.env }),
        }),
        DatabaseModule,
        MessagingModule,
      ],
    };
  }
}
