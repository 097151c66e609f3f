/**
 * Jest runs TypeScript through ts-jest in transpile-only mode (isolatedModules: no type check per file, fast);
 * `npm run typecheck` type-checks the whole project. With the project's `module: node16`, TypeScript keeps a real
 * `import()` in CommonJS output, which the ESM-only packages (openid-client, oidc-provider) need.
 * (jest 29 on purpose: jest 30's resolver and @swc/core pull platform binaries the registry here does not all serve,
 * which makes `npm ci` refuse the lock file.)
 */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  // Tests start servers, SMTP catchers, job queues and child processes and stop them in afterAll; should one of them
  // keep a handle open anyway, CI must end rather than wait for its 90 minutes.
  forceExit: true,
};
