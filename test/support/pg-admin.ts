/** The PostgreSQL server the tests use; each test store is a database of its own on it. */
export function adminDatabaseUrl(): string {
  return process.env.GATEHOUSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export const TEST_DB_PREFIX = 'gh_test_';

export function databaseUrlFor(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
