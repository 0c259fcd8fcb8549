// The worker's metrics registry, its address options and the JSON log line format.
import { Gauge, Histogram, ObservedCounter, Registry } from '../../src/metrics/registry';
import { collectIntervalMs, logFormat, metricsAddress } from '../../src/metrics/options';
import { formatJsonLine } from '../../src/metrics/json-logger';
import { jobAndAgentOf } from '../../src/metrics/log-context';
import { forgetAgentUsage, primeOomKills, recordOomKill, recordUsage, registry } from '../../src/metrics/instruments';

describe('registry', () => {
  test('renders gauges, counters and histograms in the exposition format', () => {
    const r = new Registry();
    const up = r.register(new Gauge('x_up', 'Up.', ['job', 'agent']));
    const restarts = r.register(new ObservedCounter('x_restarts_total', 'Restarts.', ['job']));
    const h = r.register(new Histogram('x_seconds', 'Time.', [0.5, 1], ['job']));
    up.set({ agent: 'a', job: 'j"1' }, 1);
    restarts.set({ job: 'j' }, 3);
    h.observe({ job: 'j' }, 0.2);
    h.observe({ job: 'j' }, 0.7);
    h.observe({ job: 'j' }, 5);
    expect(r.render()).toBe(
      [
        '# HELP x_up Up.',
        '# TYPE x_up gauge',
        'x_up{job="j\\"1",agent="a"} 1',
        '# HELP x_restarts_total Restarts.',
        '# TYPE x_restarts_total counter',
        'x_restarts_total{job="j"} 3',
        '# HELP x_seconds Time.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{job="j",le="0.5"} 1',
        'x_seconds_bucket{job="j",le="1"} 2',
        'x_seconds_bucket{job="j",le="+Inf"} 3',
        'x_seconds_sum{job="j"} 5.9',
        'x_seconds_count{job="j"} 3',
        '',
      ].join('\n'),
    );
  });

  test('a counter set from its source of truth never adds up twice', () => {
    const c = new ObservedCounter('c_total', 'C.', ['job']);
    c.set({ job: 'j' }, 4);
    c.set({ job: 'j' }, 4);
    expect(c.render()).toEqual(['c_total{job="j"} 4']);
  });

  test('series can be removed, and unknown labels are refused', () => {
    const g = new Gauge('g', 'G.', ['job', 'agent']);
    g.set({ job: 'a', agent: '1' }, 1);
    g.set({ job: 'b', agent: '1' }, 1);
    g.removeMatching({ job: 'a' });
    expect(g.render()).toEqual(['g{job="b",agent="1"} 1']);
    expect(() => g.set({ nope: 'x' }, 1)).toThrow(/unknown label 'nope'/);
  });
});

describe('metrics address', () => {
  test('defaults: 9464 for a main worker, 9465 for a host worker, on loopback', () => {
    expect(metricsAddress(undefined, {})).toEqual({ host: '127.0.0.1', port: 9464, isDefault: true });
    expect(metricsAddress(undefined, {}, true)).toEqual({ host: '127.0.0.1', port: 9465, isDefault: true });
  });
  test('the flag wins over the environment; off turns metrics off', () => {
    expect(metricsAddress('0.0.0.0:9999', { A2A_DEPLOY_METRICS: '127.0.0.1:1' })).toEqual({
      host: '0.0.0.0',
      port: 9999,
      isDefault: false,
    });
    expect(metricsAddress(undefined, { A2A_DEPLOY_METRICS: '[::1]:9500' })).toEqual({ host: '::1', port: 9500, isDefault: false });
    expect(metricsAddress('off', {})).toBeUndefined();
    expect(metricsAddress(undefined, { A2A_DEPLOY_METRICS: 'OFF' })).toBeUndefined();
  });
  test('a bad address is an input error with a hint', () => {
    expect(() => metricsAddress('9464', {})).toThrow(/--metrics '9464' is not an address/);
    expect(() => metricsAddress(undefined, { A2A_DEPLOY_METRICS: 'host:99999' })).toThrow(/A2A_DEPLOY_METRICS/);
  });
  test('collection interval and log format', () => {
    expect(collectIntervalMs({})).toBe(5000);
    expect(collectIntervalMs({ A2A_DEPLOY_METRICS_INTERVAL_MS: '300' })).toBe(300);
    expect(() => collectIntervalMs({ A2A_DEPLOY_METRICS_INTERVAL_MS: '5s' })).toThrow(/whole number/);
    expect(logFormat(undefined, {})).toBe('text');
    expect(logFormat(undefined, { A2A_DEPLOY_LOG_FORMAT: 'json' })).toBe('json');
    expect(() => logFormat('xml', {})).toThrow(/not one of text, json/);
  });
});

describe('JSON log lines', () => {
  test('a workflow line carries the job (from the workflow id) and the agent', () => {
    const line = JSON.parse(
      formatJsonLine('WARN', 'agent failed to deploy', {
        workflowId: 'a2a-job-shop',
        runId: 'r1',
        namespace: 'default',
        sdkComponent: 'workflow',
        agent: 'pay',
        message: 'boom',
      }),
    ) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', job: 'shop', agent: 'pay', message: 'agent failed to deploy', detail: 'boom' });
    expect(Date.parse(line.time as string)).not.toBeNaN();
    expect(line).not.toHaveProperty('runId');
  });
  test('an activity line carries the activity, and the job and agent from its input', () => {
    const ctx = jobAndAgentOf({ job: 'shop', agent: { id: 'web', target: 'localhost' } });
    const line = JSON.parse(
      formatJsonLine('INFO', 'pulling', { workflowId: 'a2a-job-shop', activityType: 'deployAgent', ...ctx }),
    ) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', job: 'shop', agent: 'web', activity: 'deployAgent', message: 'pulling' });
  });
  test('a watch of one agent names it; a watch of several names none', () => {
    expect(jobAndAgentOf({ job: 'j', agents: [{ id: 'a' }] })).toEqual({ job: 'j', agent: 'a' });
    expect(jobAndAgentOf({ job: 'j', agents: [{ id: 'a' }, { id: 'b' }] })).toEqual({ job: 'j' });
    expect(jobAndAgentOf(undefined)).toEqual({});
  });
});

describe('resource usage series', () => {
  test('one usage read becomes the memory, CPU and throttling series; a stop removes them, kills stay counted', () => {
    const seen = () =>
      registry
        .render()
        .split('\n')
        .filter((l) => /^a2a_agent_(memory|cpu|oom)/.test(l) && l.includes('job="lim"'));
    primeOomKills('lim', 'hog', 'localhost');
    recordUsage('lim', 'hog', {
      memoryBytes: 1000,
      memoryPeakBytes: 2000,
      memoryLimitBytes: 4096,
      cpuSeconds: 1.5,
      throttledSeconds: 0.25,
      throttledPeriods: 3,
    });
    expect(seen()).toEqual([
      'a2a_agent_memory_bytes{job="lim",agent="hog"} 1000',
      'a2a_agent_memory_peak_bytes{job="lim",agent="hog"} 2000',
      'a2a_agent_memory_limit_bytes{job="lim",agent="hog"} 4096',
      'a2a_agent_cpu_seconds_total{job="lim",agent="hog"} 1.5',
      'a2a_agent_cpu_throttled_seconds_total{job="lim",agent="hog"} 0.25',
      'a2a_agent_cpu_throttled_periods_total{job="lim",agent="hog"} 3',
      'a2a_agent_oom_kills_total{job="lim",agent="hog",target="localhost"} 0',
    ]);
    recordOomKill('lim', 'hog', 'localhost');
    recordOomKill('lim', 'hog', 'localhost');
    primeOomKills('lim', 'hog', 'localhost'); // a restart does not start the count again
    forgetAgentUsage('lim', 'hog');
    expect(seen()).toEqual(['a2a_agent_oom_kills_total{job="lim",agent="hog",target="localhost"} 2']);
  });
});
