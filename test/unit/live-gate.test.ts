import { LiveGate } from '../../src/services/live-gate';
import { BusyError } from '../../src/errors';

/** A computation the test finishes by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('the gate of heavy live computations', () => {
  it('identical requests share one computation', async () => {
    const gate = new LiveGate(1, 0, 'statsBusy');
    const work = deferred<number>();
    let calls = 0;
    const first = gate.run('k', () => (calls++, work.promise));
    const second = gate.run('k', () => (calls++, work.promise));
    work.resolve(42);
    expect(await Promise.all([first, second])).toEqual([42, 42]);
    expect(calls).toBe(1);
    expect(gate.load).toEqual({ running: 0, waiting: 0, shared: 0 });
  });

  it('runs `running` at once, lets `waiting` wait in order, refuses the rest with a 503', async () => {
    const gate = new LiveGate(1, 1, 'statsBusy');
    const order: string[] = [];
    const a = deferred<string>();
    const b = deferred<string>();
    const ra = gate.run('a', () => (order.push('a'), a.promise));
    const rb = gate.run('b', () => (order.push('b'), b.promise));
    await Promise.resolve();
    expect(order).toEqual(['a']);
    expect(gate.load).toMatchObject({ running: 1, waiting: 1 });
    const refused = await gate.run('c', async () => 'c').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BusyError);
    expect((refused as BusyError).status).toBe(503);
    a.resolve('A');
    expect(await ra).toBe('A');
    await Promise.resolve();
    expect(order).toEqual(['a', 'b']);
    b.resolve('B');
    expect(await rb).toBe('B');
    expect(gate.load).toEqual({ running: 0, waiting: 0, shared: 0 });
  });

  it('a failed computation frees its turn and is not kept', async () => {
    const gate = new LiveGate(1, 0, 'statsBusy');
    await expect(gate.run('k', async () => { throw new Error('database went away'); })).rejects.toThrow('database went away');
    expect(gate.load).toEqual({ running: 0, waiting: 0, shared: 0 });
    expect(await gate.run('k', async () => 'again')).toBe('again');
  });
});
