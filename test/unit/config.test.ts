import { moduleConfigFromEnv } from '../../src/config';

describe('the configuration from the environment', () => {
  it('takes the defaults when a variable is unset or empty', () => {
    const config = moduleConfigFromEnv({ MAIL_CONCURRENCY: '' });
    expect(config).toMatchObject({ mailConcurrency: 4, mailYieldSeconds: 5, mailLeaseSeconds: 120, mutationRateLimit: 300 });
  });

  it('reads numbers, and MAIL_YIELD_SECONDS=0 means never wait', () => {
    expect(moduleConfigFromEnv({ MAIL_CONCURRENCY: '8', MAIL_YIELD_SECONDS: '0', MAIL_LEASE_SECONDS: '3' })).toMatchObject({ mailConcurrency: 8, mailYieldSeconds: 0, mailLeaseSeconds: 3 });
  });

  it.each([
    ['MAIL_CONCURRENCY', 'four'],
    ['MAIL_CONCURRENCY', '0'],
    ['MAIL_LEASE_SECONDS', '-5'],
    ['MAX_FILE_BYTES', '10MB'],
  ])('refuses %s=%s at start, naming the variable (a NaN concurrency sent no mail at all)', (name, value) => {
    expect(() => moduleConfigFromEnv({ [name]: value })).toThrow(name);
  });
});
