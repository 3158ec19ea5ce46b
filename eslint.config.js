import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { redisLayersPlugin } from './src/dev-services/redis-layers.eslint-rule.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', '**/dist/**', '.cache/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The layers of the library (docs/architecture.md): a lower layer never imports a higher one. Specs may.
    files: ['libs/redis/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    plugins: { 'redis-layers': redisLayersPlugin },
    rules: { 'redis-layers/no-upward-import': 'error' },
  },
);
