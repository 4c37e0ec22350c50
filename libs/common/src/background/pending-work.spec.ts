import { PendingWork } from './pending-work.js';

describe('PendingWork', () => {
  it('waits for the work added, and reports failures instead of rejecting', async () => {
    const errors: string[] = [];
    const pending = new PendingWork((error) => errors.push(error.message));
    let finished = false;
    pending.add(
      new Promise((resolve) => setTimeout(resolve, 30)).then(() => void (finished = true)),
    );
    pending.add(Promise.reject(new Error('broken')));
    await pending.settled();
    expect(finished).toBe(true);
    expect(errors).toEqual(['broken']);
  });
});
