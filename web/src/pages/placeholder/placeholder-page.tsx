import { Page } from '../../components/page';

/** A section whose page is not built yet. */
export function PlaceholderPage({ title }: { title: string }) {
  return (
    <Page title={title}>
      <p>This page is on its way. Meanwhile the same actions are available from the API and the CLI.</p>
      <p>
        <a href="/api/docs">Open the API documentation</a>
      </p>
    </Page>
  );
}
