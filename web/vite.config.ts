/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// `npm run dev` proxies /api to an actor on 127.0.0.1:8080 (python -m actor --no-selfplay).
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  base: './',
  // Svelte's compiler is most of the build's time by nature: Rolldown's notice that a plugin
  // took most of it says nothing to act on.
  build: { rolldownOptions: { checks: { bundlerTimings: false } } },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
    // A first test also waits for jsdom and Svelte to load: seconds on two busy cores.
    testTimeout: 30_000,
  },
});
