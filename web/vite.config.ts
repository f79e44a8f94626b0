import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The back-office is built into web/dist and served by the Gatehouse server at `/` (src/http/web.ts).
// `npx vite --config web/vite.config.ts` serves it with hot reload, the API proxied to a running server.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // the server's CSP forbids inline script and style: keep every asset a file
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: {
    proxy: { '/api': { target: process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:7070' } },
  },
});
