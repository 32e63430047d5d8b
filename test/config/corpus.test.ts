/**
 * Every real queue file in test/fixtures/queue-config (copied byte-exact from the shared corpus;
 * SOURCES.tsv names each one's repository and commit). For each file: the verdict, the exact
 * issues, the queue count (default included), values checked by hand against the file, and a
 * one-line-per-queue snapshot of the whole normalised config.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultQueueFileConfig } from '../../src/config/defaults.js';
import { loadQueueConfigFile } from '../../src/config/load.js';
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../../src/config/types.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'queue-config');
const FILES = readdirSync(DIR).filter((file) => /\.(ya?ml|xml)$/.test(file)).sort();

type QueueExpectation = Partial<Omit<QueueConfig, 'retry_parameters'>> & { retry_parameters?: Partial<RetryParameters> };

type Expectation =
  | {
      valid: true;
      queues: number;
      /** `line:column code` */
      warnings?: string[];
      storage?: number | null;
      match?: Record<string, QueueExpectation>;
      check?: (config: QueueFileConfig) => void;
    }
  | { valid: false; errors: string[] };

/** Full retry parameters: task_retry_limit, task_age_limit_seconds, min, max, max_doublings. */
function retry(limit: number | null, age: number | null, min = 0.1, max = 3600, doublings = 16): RetryParameters {
  return { task_retry_limit: limit, task_age_limit_seconds: age, min_backoff_seconds: min, max_backoff_seconds: max, max_doublings: doublings };
}
const PULL = { mode: 'pull', state: 'running', rate_per_second: null, rate_exact: null, bucket_size: null, max_concurrent_requests: null, target: null } as const;
const MiB = 1024 ** 2;

const EXPECTED: Record<string, Expectation> = {
  '001__the-blue-alliance__the-blue-alliance__src-queue.yaml': {
    valid: true,
    queues: 12,
    match: {
      default: { rate_per_second: 10, retry_parameters: retry(0, null) },
      'api-track-call': { rate_per_second: 500, rate_exact: { tokens: 1, period_us: 2000 }, retry_parameters: retry(0, null) },
      datafeed: { retry_parameters: retry(null, 3600) },
      'push-notifications': { rate_per_second: 10, retry_parameters: retry(0, 180, 10, 30) },
      backups: { rate_exact: { tokens: 1, period_us: 10_000_000 }, rate_per_second: 0.1, max_concurrent_requests: 1 },
    },
    check: (c) => expect(c.queues[0]?.name).toBe('default'),
  },
  '002__ariofrio__python-gae-queues-demo__app-queue.yaml': { valid: true, queues: 2, match: { demo: { ...PULL, retry_parameters: retry(null, null) } } },
  '004__Gig-o-Matic__GO2__queue.yaml': {
    valid: true,
    queues: 4,
    match: {
      emailqueue: { rate_exact: { tokens: 1, period_us: 1_500_000 }, bucket_size: 10, max_concurrent_requests: 10 },
      archivequeue: { rate_exact: { tokens: 1, period_us: 60_000_000 }, max_concurrent_requests: 1, retry_parameters: retry(0, null) },
    },
  },
  '005__zond__diplicity__queue.yaml': {
    valid: true,
    queues: 25,
    match: { 'game-reRateTrueSkills': { rate_per_second: 1 }, 'game-ejectProbationaries': { rate_per_second: 500 } },
    check: (c) => expect(c.queues.filter((q) => q.rate_per_second === 500)).toHaveLength(10),
  },
  '007__AndersenLab__CeNDR__queue.yaml': {
    valid: true,
    queues: 4,
    match: {
      h2calc: { max_concurrent_requests: 1, retry_parameters: retry(2, null, 10, 60, 2) },
      nscalc: { rate_per_second: 0.01, rate_exact: { tokens: 1, period_us: 100_000_000 }, retry_parameters: retry(1, null, 300, 3000) },
    },
  },
  '008__Google-Tasks-Backup__tasks-backup__queue.yaml': {
    valid: true,
    queues: 2,
    match: { 'process-tasks-request': { rate_per_second: 10, bucket_size: 10, retry_parameters: retry(5, 900, 2, 10) } },
  },
  '010__GoogleChrome__chromium-dashboard__queue.yaml': {
    valid: true,
    queues: 2,
    match: {
      default: { target: 'notifier', rate_per_second: 1, bucket_size: 5, retry_parameters: retry(3, 172_800) },
      'gen-summaries-queue': { max_concurrent_requests: 5, retry_parameters: retry(3, 86_400, 10, 300, 4) },
    },
  },
  '011__KhanWorld__KhanAcademy__queue.yaml': { valid: true, queues: 12, storage: 999 * MiB, match: { 'problem-log-queue': { rate_per_second: 80 } } },
  '013__utahta__momoclo-channel__appengine-backend-queue.yaml': {
    valid: true,
    queues: 4,
    match: {
      enqueue: { target: 'default', retry_parameters: retry(3, null) },
      'queue-line': { rate_per_second: 80, bucket_size: 80, target: 'default', retry_parameters: retry(3, null, 3) },
      'queue-tweet': { target: 'batch', bucket_size: 10 },
    },
  },
  '014__GoogleCloudPlatform__Data-Pipeline__app-queue.yaml': {
    valid: true,
    queues: 2,
    match: { backend: { mode: 'push', bucket_size: 100, rate_per_second: 1, target: 'backend', max_concurrent_requests: 8, retry_parameters: retry(null, 86_400, 10, 600) } },
  },
  '016__rice-apps__rice-elections__src-queue.yaml': { valid: true, queues: 4, match: { voters: { rate_per_second: 100 }, 'election-report': { rate_per_second: 100 } } },
  '017__adamjmcgrath__fridayfilmclub__src-queue.yaml': { valid: true, queues: 3, match: { 'backup-builtin-queue': { rate_per_second: 30, target: 'ah-builtin-python-bundle' } } },
  '019__luci__luci-py__appengine-swarming-queue.yaml': {
    valid: true,
    queues: 17,
    match: {
      'es-notify-tasks-batch': PULL,
      'named-cache-task': { rate_per_second: 10, retry_parameters: retry(0, 1) },
      'es-notify-tasks': { rate_per_second: 75, bucket_size: 100, retry_parameters: retry(2, 300) },
      'rbe-enqueue': { target: 'default-go', bucket_size: 100, rate_per_second: 500 },
      'delete-tasks': { max_concurrent_requests: 20, bucket_size: 5 },
    },
  },
  '020__luci__luci-py__appengine-auth_service-queue.yaml': {
    valid: true,
    queues: 6,
    match: {
      replication: { rate_exact: { tokens: 1, period_us: 6_000_000 }, max_concurrent_requests: 1 },
      'auth-db-replication': { target: 'backendv2', retry_parameters: retry(null, 86_400) },
      'tq-sweep': { rate_per_second: 500, target: 'backendv2' },
    },
  },
  '022__luci__luci-py__appengine-gce-backend-queue.yaml': {
    valid: true,
    queues: 16,
    check: (c) => {
      for (const q of c.queues.slice(1)) expect(q).toMatchObject({ rate_per_second: 100, retry_parameters: retry(0, null) });
    },
  },
  '023__luci__luci-py__appengine-isolate-queue.yaml': {
    valid: true,
    queues: 6,
    warnings: ['27:28 max-concurrent-requests-clamped', '35:28 max-concurrent-requests-clamped'],
    match: {
      tag: { max_concurrent_requests: 5000, bucket_size: 100, retry_parameters: retry(null, 86_400) },
      verify: { max_concurrent_requests: 5000 },
      'cleanup-expired': { bucket_size: 30, rate_per_second: 30, retry_parameters: retry(0, null) },
    },
  },
  '025__m-lab__etl__appengine-queue.yaml': {
    valid: true,
    queues: 69,
    storage: 2000 * MiB,
    match: {
      'etl-ndt-queue': { target: 'etl-ndt-parser', rate_per_second: 2, rate_exact: { tokens: 1, period_us: 500_000 }, bucket_size: 10, max_concurrent_requests: 360 },
      'etl-ndt-batch-0': { target: 'etl-batch-parser', rate_per_second: 3, max_concurrent_requests: 120, retry_parameters: retry(null, 43_200, 20, 20, 0) },
    },
    check: (c) => expect(c.queues.filter((q) => q.rate_per_second === 1.5).map((q) => q.rate_exact)).toEqual([{ tokens: 3, period_us: 2_000_000 }, { tokens: 3, period_us: 2_000_000 }]),
  },
  '026__sfujiwara__preemptible-workers-sample-python__appengine-queue.yaml': { valid: true, queues: 2, match: { 'pull-queue': PULL } },
  '028__MayOneUS__pledgeservice__backend-queue.yaml': {
    valid: true,
    queues: 5,
    match: {
      mail: { rate_exact: { tokens: 49, period_us: 600_000 }, rate_per_second: 4900 / 60 },
      generateCSV: { rate_exact: { tokens: 1, period_us: 3_600_000_000 }, max_concurrent_requests: 1 },
    },
  },
  '029__skypies__flightdb__app-queue.yaml': {
    valid: true,
    queues: 3,
    warnings: ['1:1 application-ignored'],
    match: { batch: { rate_per_second: 40, max_concurrent_requests: 40, retry_parameters: retry(2, null, 1) }, bigbatch: { rate_per_second: 1 / 6 } },
  },
  '031__cloudaware__cloudmine-appengine__src-main-webapp-WEB-INF-queue.yaml': {
    valid: true,
    queues: 2,
    match: { poll: { rate_per_second: 500, bucket_size: 500, max_concurrent_requests: 3000, retry_parameters: retry(999, null, 30, 90) } },
  },
  '032__Geek-Union__KindleEar__queue.yaml': {
    valid: true,
    queues: 2,
    match: { deliverqueue1: { rate_exact: { tokens: 1, period_us: 30_000_000 }, bucket_size: 2, target: null, retry_parameters: retry(2, 300, 60, 600, 4) } },
  },
  '034__OwenDurni__loltools__app-queue.yaml': {
    valid: true,
    queues: 1,
    match: { default: { rate_per_second: 1, bucket_size: 1, max_concurrent_requests: 1, retry_parameters: retry(null, 604_800, 5, 43_200, 99_999) } },
  },
  '035__Cloudlock__domain-populator__queue.yaml': {
    valid: true,
    queues: 15,
    match: { 'docreport-apicalls-010': { rate_per_second: 80, bucket_size: 100 }, 'docreport-nibbles': { rate_per_second: 1, bucket_size: 5 } },
  },
  '037__Johanndutoit__NodeCPT-Google-Compute-App__queue.yml': { valid: true, queues: 2, match: { 'banner-dots': PULL } },
  // The acl placeholder [SERVICE_ACCOUNT] is a YAML flow sequence, not an e-mail address.
  '038__adam-singer__solutions-orchestrator-android-sampleapp-smashpix__server-queue.yaml': { valid: false, errors: ['6:17 wrong-type queue[0].acl[0].user_email'] },
  '040__okpy__ok__server-queue.yaml': { valid: true, queues: 2, match: { 'pull-queue': PULL } },
  '041__mikelambert__dancedeets-monorepo__server-queue.yaml': {
    valid: true,
    queues: 8,
    match: {
      default: { rate_per_second: 5, bucket_size: 5, target: 'batch', max_concurrent_requests: 20 },
      'slow-queue': { rate_exact: { tokens: 1, period_us: 3_000_000 }, bucket_size: 1, max_concurrent_requests: 3 },
      'event-publishing-pull-queue': PULL,
      'event-publishing-pull-queue-high': PULL,
    },
    check: (c) => expect(c.queues.map((q) => q.name)).toEqual(['default', 'slow-queue', 'super-slow-queue', 'fast-queue', 'event-publishing-pull-queue', 'event-publishing-pull-queue-high', 'mobile-notify-queue', 'keyword-search']),
  },
  '043__SkyTruth__skytruth-automation-hub__gae-queue.yaml': { valid: true, queues: 2, storage: 500 * MiB, match: { tasks: { ...PULL, retry_parameters: retry(null, null) } } },
  '044__michilu__gae-tap__gae-queue.yaml': {
    valid: true,
    queues: 7,
    match: { default: { rate_per_second: 500 }, backend: { target: 'backend' }, aws: { rate_exact: { tokens: 1, period_us: 1_800_000 } }, queue: PULL },
    check: (c) => expect(c.queues.filter((q) => q.mode === 'pull')).toHaveLength(4),
  },
  '046__bopopescu__network-reporting__eventrackerscaletest-queue.yaml': {
    valid: true,
    queues: 14,
    storage: 10 * 1024 ** 3,
    match: { 'bulk-log-processor': { bucket_size: 100, retry_parameters: retry(null, null) }, 'async-log-queue-10': { bucket_size: 100, retry_parameters: retry(1, null) } },
  },
  '047__c4rlo__vimhelp__gae-queue.yaml': { valid: true, queues: 2, storage: 20 * MiB, match: { update2: { rate_exact: { tokens: 1, period_us: 30_000_000 }, bucket_size: 1, max_concurrent_requests: 1 } } },
  '049__GoogleCloudPlatformBook__lunchmates-api__queue.yaml': {
    valid: true,
    queues: 2,
    storage: 100 * MiB,
    match: { email: { rate_per_second: 10, bucket_size: 10, max_concurrent_requests: 10, retry_parameters: retry(10, 86_400, 10, 7200, 9) } },
  },
  '050__GuillaumeDelente__OpenBikeServer__queue.yaml': { valid: true, queues: 2, match: { fetchQueue: { rate_per_second: 1, max_concurrent_requests: 1, retry_parameters: retry(1, null) } } },
  '052__AndersenLab__CeNDR__queue.yaml': {
    valid: true,
    queues: 2,
    match: { 'map-queue': { mode: 'push', rate_exact: { tokens: 1, period_us: 86_400_000_000 }, max_concurrent_requests: 5, retry_parameters: retry(3, null, 3000, 3600) } },
  },
  '053__GoogleCloudPlatform__appengine-java-standard__api_dev-src-test-resources-com-google-appengine-api-taskqueue-dev-config_test_data-queue.yaml': {
    valid: true,
    queues: 4,
    match: { 'default-yaml': { rate_per_second: 5 }, 'another-queue-yaml': { rate_exact: { tokens: 1, period_us: 43_200_000 }, bucket_size: 10 }, 'pull-queue-yaml': PULL },
  },
  '055__metachris__appengine-boilerplate__app-queue.yaml': { valid: true, queues: 1, check: (c) => expect(c).toEqual(defaultQueueFileConfig()) },
  '056__fantascy__snsanalytics__src-queue.yaml': {
    valid: true,
    queues: 8,
    match: { default: { rate_per_second: 10, bucket_size: 5, retry_parameters: retry(0, null) }, msgcampaign: { bucket_size: 1 }, cmpcounterupdater: { bucket_size: 10 } },
  },
  '058__atishpatel__Gigamunch-Backend__admin-queue.yaml': {
    valid: true,
    queues: 4,
    match: {
      'process-subscription': { rate_per_second: 40, target: 'admin', retry_parameters: retry(2, null, 600) },
      'update-drip': { rate_exact: { tokens: 3, period_us: 4_000_000 }, target: 'cookapi', retry_parameters: retry(3, null, 3600, 3600) },
    },
  },
  // bucket_size 1000 is over App Engine's maximum of 500 (gcloud: "Maximum bucket size is 500").
  '059__Vizzuality__DeforestationAnalysisTool__src-queue.yaml': { valid: false, errors: ['6:16 bucket-size-max queue[0].bucket_size'] },
  '061__bslatkin__8-bits__appengine-mapreduce-java-example-war-WEB-INF-queue.xml': {
    valid: true,
    queues: 2,
    storage: 1000 * MiB,
    match: {
      default: { rate_per_second: 100, bucket_size: 100, max_concurrent_requests: 300, retry_parameters: retry(null, 259_200) },
      'mapreduce-workers': { max_concurrent_requests: 100 },
    },
  },
  '062__googlearchive__solutions-mobile-backend-starter-java__war-WEB-INF-queue.xml': {
    valid: true,
    queues: 4,
    match: { 'notification-delivery': PULL, 'notification-device-token-cleanup': { rate_per_second: 10, bucket_size: 20, target: 'default' } },
  },
  '064__icza__sc2gears__war-WEB-INF-queue.xml': {
    valid: true,
    queues: 37,
    storage: 1024 ** 3,
    match: { default: { rate_per_second: 500, bucket_size: 100, max_concurrent_requests: 1 }, custom: { max_concurrent_requests: 1000 }, procFileWithContent: { rate_per_second: 1, bucket_size: 1 } },
  },
  '065__getodk__aggregate__src-main-gae_ear-default-WEB-INF-queue.xml': {
    valid: true,
    queues: 2,
    match: { default: { rate_per_second: 1, bucket_size: 5, max_concurrent_requests: 5, retry_parameters: retry(1, null) }, 'frontend-queue': { bucket_size: 50 } },
  },
  '067__WELTEN__xAPI-gae-tools__src-main-webapp-WEB-INF-queue.xml': {
    valid: true,
    queues: 2,
    match: { default: { rate_per_second: 200, bucket_size: 400, max_concurrent_requests: 100 }, syncqueue: { max_concurrent_requests: 1 } },
  },
  '068__88250__solo__war-src-main-webapp-WEB-INF-queue.xml': {
    valid: true,
    queues: 2,
    match: { 'fix-queue': { rate_exact: { tokens: 1, period_us: 3_000_000 }, retry_parameters: retry(7, null) } },
    check: (c) => expect(c.queues.map((q) => q.name)).not.toContain('request-stat-queue'),
  },
};

/** One line per queue, for the snapshot. */
function summary(config: QueueFileConfig): string[] {
  const lines = [`total_storage_limit_bytes ${config.total_storage_limit_bytes}`];
  for (const q of config.queues) {
    const r = q.retry_parameters;
    const rate = q.rate_exact === null ? String(q.rate_per_second) : `${q.rate_per_second} (${q.rate_exact.tokens}/${q.rate_exact.period_us}us)`;
    lines.push(
      `${q.name} ${q.mode} ${q.state} rate=${rate} bucket=${q.bucket_size} concurrent=${q.max_concurrent_requests} target=${q.target} ` +
        `retry=limit:${r.task_retry_limit} age:${r.task_age_limit_seconds === null ? null : `${r.task_age_limit_seconds}s`} backoff:${r.min_backoff_seconds}..${r.max_backoff_seconds}s doublings:${r.max_doublings}`,
    );
  }
  return lines;
}

describe('queue-config corpus', () => {
  it('has an expectation for every fixture file, and a file for every expectation', () => {
    expect(FILES).toEqual(Object.keys(EXPECTED).sort());
    expect(FILES).toHaveLength(46);
  });

  it('keeps the fixtures byte-exact (CRLF and missing final newlines survive git)', () => {
    const read = (name: string) => readFileSync(join(DIR, name), 'utf8');
    expect(read('064__icza__sc2gears__war-WEB-INF-queue.xml')).toMatch(/^<\?xml[^\n]*\r\n/);
    expect(read('068__88250__solo__war-src-main-webapp-WEB-INF-queue.xml').split('\r\n')).toHaveLength(46);
    expect(read('035__Cloudlock__domain-populator__queue.yaml').endsWith('bucket_size: 5')).toBe(true);
    expect(read('056__fantascy__snsanalytics__src-queue.yaml')).toContain('bucket_size : 5\n');
  });

  it.each(FILES)('%s', async (file) => {
    const expected = EXPECTED[file];
    if (expected === undefined) throw new Error(`no expectation for ${file}`);
    const path = join(DIR, file);
    const result = await loadQueueConfigFile(path);

    if (!expected.valid) {
      expect(result.valid).toBe(false);
      expect(result.config).toBeNull();
      expect(result.errors.map((i) => `${i.line}:${i.column} ${i.code} ${i.path}`)).toEqual(expected.errors);
      expect(result.errors.every((i) => i.file === path)).toBe(true);
      return;
    }

    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.warnings.map((i) => `${i.line}:${i.column} ${i.code}`)).toEqual(expected.warnings ?? []);
    const config = result.config!;
    expect(config.queues).toHaveLength(expected.queues);
    expect(config.queues[0]?.name).toBe('default');
    expect(new Set(config.queues.map((q) => q.name)).size).toBe(config.queues.length);
    expect(config.total_storage_limit_bytes).toBe(expected.storage ?? null);
    for (const [name, match] of Object.entries(expected.match ?? {})) {
      expect(config.queues.find((q) => q.name === name), name).toMatchObject(match);
    }
    expected.check?.(config);
    expect(summary(config)).toMatchSnapshot();
  });
});
