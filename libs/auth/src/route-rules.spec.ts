import { Controller, Get, Post } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ActsFor, AdminOnly, Public } from './auth.decorators.js';
import { RouteRules } from './route-rules.js';

@AdminOnly()
@Controller('things')
class RuledController {
  @Get()
  list() {}

  @Post(':phone')
  @ActsFor({ param: 'phone' })
  add() {}

  @Get('open')
  @Public()
  open() {}
}

@Controller('forgotten')
class ForgetfulController {
  @Get(':id')
  find() {}

  @Public()
  @Get()
  fine() {}
}

async function boot(controllers: Array<new () => object>) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers,
    providers: [RouteRules],
  }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

describe('RouteRules', () => {
  it('lists every route with its rule, the handler one overriding the controller one', async () => {
    const app = await boot([RuledController]);
    expect(app.get(RouteRules).routes()).toEqual([
      {
        method: 'GET',
        path: '/things',
        handler: 'RuledController.list',
        rule: { kind: 'admin' },
      },
      {
        method: 'POST',
        path: '/things/:phone',
        handler: 'RuledController.add',
        rule: { kind: 'actsFor', source: { param: 'phone' } },
      },
      {
        method: 'GET',
        path: '/things/open',
        handler: 'RuledController.open',
        rule: { kind: 'public' },
      },
    ]);
    await app.close();
  });

  it('refuses to start when a route has no rule, naming it', async () => {
    await expect(boot([RuledController, ForgetfulController])).rejects.toThrow(
      /Every route needs an auth rule.*Missing on: GET \/forgotten\/:id \(ForgetfulController\.find\)$/,
    );
  });
});
