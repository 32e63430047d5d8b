/** How a task's Host header names its target (src/server/appengine/host-routing.ts). */
import { describe, expect, it } from 'vitest';
import { targetFromHost } from '../../../src/server/appengine/host-routing.js';

const services = new Set(['default', 'worker', 'v3.reports']);

describe('targetFromHost', () => {
  it.each([
    ['worker.my-app.appspot.com', 'worker'],
    ['v2.worker.my-app.appspot.com', 'v2.worker'],
    ['v2-dot-worker-dot-my-app.appspot.com', 'v2.worker'],
    ['worker-dot-my-app.appspot.com', 'worker'],
    ['WORKER.localhost:8080', 'worker'],
    ['v3.reports.localhost', 'v3.reports'],
    ['default.my-app.appspot.com', 'default'],
  ])('%s names %s', (host, target) => {
    expect(targetFromHost(host, services)).toBe(target);
  });

  it.each([
    'my-app.appspot.com',
    'localhost:8080',
    'reports.localhost', // only version v3 of reports has a URL: the service alone is not known
    'other.my-app.appspot.com',
    '',
    '[::1]:8080',
    'v_2.worker.example', // not an App Engine version id: not read as one
  ])('%s names no service pushq knows: the app\'s default version', (host) => {
    expect(targetFromHost(host, services)).toBeUndefined();
  });
});
