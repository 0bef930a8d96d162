import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The window loads ui/dist from the app bundle: no dev server, no remote content.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: 'safari15',
    outDir: 'dist',
    emptyOutDir: true,
    // One small bundle: the register starts from disk, so fewer files start faster.
    cssCodeSplit: false,
    modulePreload: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
