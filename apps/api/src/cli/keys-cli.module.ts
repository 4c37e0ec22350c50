import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ApiKeysModule } from '@app/auth';
import { PhoneNumbersModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { validateEnvironment } from '../config/environment.js';

/** What the key CLI needs of the app: its configuration, its database and the keys. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, cache: true, validate: validateEnvironment }),
    PhoneNumbersModule,
    DatabaseModule,
    ApiKeysModule,
  ],
})
export class KeysCliModule {}
