// Builds the UI into build/ui, next to build/hubspoke, where `hubspoke hub` looks for it.
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: '../build/ui', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});
