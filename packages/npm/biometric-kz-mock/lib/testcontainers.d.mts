export * from './testcontainers.cjs';
