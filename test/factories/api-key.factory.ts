import request from 'supertest';
import type { TestApp } from '../setup/test-app.js';

export interface IssuedKey {
  id: string;
  /** `Bearer sms_...`, ready for the Authorization header. */
  authorization: string;
}

/** Issues a phone key through the API, as an operator would. */
export async function issuePhoneKey(testApp: TestApp, phones: string[]): Promise<IssuedKey> {
  const response = await request(testApp.baseUrl)
    .post('/api/keys')
    .set('Authorization', `Bearer ${testApp.adminKey}`)
    .send({ label: `test key for ${phones.join(', ')}`, phones })
    .expect(201);
  return { id: response.body.id, authorization: `Bearer ${response.body.key}` };
}

export async function revokeKey(testApp: TestApp, id: string): Promise<void> {
  await request(testApp.baseUrl)
    .delete(`/api/keys/${id}`)
    .set('Authorization', `Bearer ${testApp.adminKey}`)
    .expect(204);
}
