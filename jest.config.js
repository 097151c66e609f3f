/** Jest runs TypeScript through SWC (no TypeScript API needed); `npm run typecheck` type-checks. */
module.exports = {
  testEnvironment: 'node',
  transform: {
    // ESM-only packages (openid-client, oidc-provider) are loaded with a native import(): keep it in these loaders.
    '/(src/oidchost|test/contract)/esm\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs', ignoreDynamic: true } }],
    '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
