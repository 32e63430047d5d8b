/**
 * A scenario whose waits differ under dev_appserver's rules (S39) and production's: production
 * holds `mail` by its tokens (2/s) and `held` by its rate 0 (paused); the dev server applies
 * neither, only the app's one task at a time. Prefix `dev_server: true` (or false) to choose.
 */
export const DEV_SERVER_CONTRAST_SCENARIO = `seed: 5
queue:
  - { name: mail, rate: 2/s, bucket_size: 2, max_concurrent_requests: 10 }
  - { name: held, rate: 0 }
workload:
  - { queue: mail, count: 20 }
  - { queue: held, count: 3 }
worker:
  latency: 50ms
`;
