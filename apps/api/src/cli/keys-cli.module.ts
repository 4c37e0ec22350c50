import { Module } from '@nestjs/common';
import { ApiKeysModule } from '@app/auth';
import { PhoneNumbersModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { configModule } from '../config/environment.js';

/** What the key CLI needs of the app: its configuration, its database and the keys. */
@Module({
  imports: [configModule(), PhoneNumbersModule, DatabaseModule, ApiKeysModule],
})
export class KeysCliModule {}
