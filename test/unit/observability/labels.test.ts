import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loggedUrl } from '../../../middleware/request-log.js';
import { classifyRequest } from '../../../routes/request-kind.js';
import { createAddressMatcher, MonitoringConfigSchema } from '../../../src/monitoring-config.js';
import { statusClass } from '../../../src/observability/metrics.js';

describe('request kinds (metric labels and log fields)', () => {
  test('every GOPROXY route, at the root and under a mount prefix, for the project and the group endpoint', () => {
    const cases: [string, string][] = [
      ['/@v/list', 'list'],
      ['/@v/v1.0.0.info', 'info'],
      ['/@v/v1.0.0.mod', 'mod'],
      ['/@v/v1.0.0.zip', 'zip'],
      ['/@latest', 'latest'],
      ['/@v/main.info', 'info'],
      ['/@v/v1.0.0.tar', 'other'],
    ];
    for (const prefix of ['', '/go-mirror']) {
      for (const [rest, kind] of cases) {
        assert.deepEqual(classifyRequest(`${prefix}/api/v4/projects/42/packages/go/gitlab.example.com/a/b${rest}`), {
          kind,
          endpoint: 'project',
        });
        assert.deepEqual(classifyRequest(`${prefix}/api/v4/groups/7/-/packages/go/gitlab.example.com/a/b${rest}`), {
          kind,
          endpoint: 'group',
        });
      }
    }
    assert.deepEqual(classifyRequest('/api/v4/projects/42/packages/go/-/warm'), { kind: 'warm', endpoint: 'project' });
    // A module whose path holds "@v" below its own: the last /@v/ decides.
    assert.deepEqual(classifyRequest('/api/v4/projects/1/packages/go/x/@v/y/@v/v1.0.0.mod'), { kind: 'mod', endpoint: 'project' });
  });

  test('the server own endpoints, and anything else', () => {
    assert.deepEqual(classifyRequest('/-/health'), { kind: 'health', endpoint: 'none' });
    assert.deepEqual(classifyRequest('/-/readiness'), { kind: 'health', endpoint: 'none' });
    assert.deepEqual(classifyRequest('/metrics'), { kind: 'metrics', endpoint: 'none' });
    assert.deepEqual(classifyRequest('/api/v4/projects/1/packages/npm/x'), { kind: 'other', endpoint: 'none' });
    assert.deepEqual(classifyRequest(''), { kind: 'other', endpoint: 'none' });
  });

  test('status classes are a fixed set', () => {
    assert.equal(statusClass(200), '2xx');
    assert.equal(statusClass(304), '3xx');
    assert.equal(statusClass(404), '4xx');
    assert.equal(statusClass(503), '5xx');
    assert.equal(statusClass(0), 'other');
    assert.equal(statusClass(999), 'other');
  });
});

describe('logged URLs', () => {
  test('credentials in the query string are replaced, whatever the case; the rest is kept', () => {
    assert.equal(loggedUrl('/a?private_token=glpat-x&b=1'), '/a?private_token=[REDACTED]&b=1');
    assert.equal(loggedUrl('/a?b=1&JOB_TOKEN=abc#f'), '/a?b=1&JOB_TOKEN=[REDACTED]#f');
    assert.equal(loggedUrl('/metrics?token=s3cret'), '/metrics?token=[REDACTED]');
    assert.equal(
      loggedUrl('/a?access_token=1&deploy_token=2&password=3'),
      '/a?access_token=[REDACTED]&deploy_token=[REDACTED]&password=[REDACTED]',
    );
    assert.equal(loggedUrl('/a?tokens=1'), '/a?tokens=1');
  });
});

describe('the monitoring allow-list', () => {
  test('addresses and CIDR blocks, IPv4-mapped IPv6 matching as IPv4', () => {
    const matches = createAddressMatcher(['127.0.0.0/8', '::1/128', '10.1.2.3', 'fd00::/8']);
    for (const ok of ['127.0.0.1', '127.9.9.9', '::ffff:127.0.0.1', '::1', '10.1.2.3', 'fd00::5']) assert.ok(matches(ok), ok);
    for (const no of ['10.1.2.4', '192.168.0.1', '::2', 'fe80::1', undefined, '', 'not-an-ip']) assert.ok(!matches(no), String(no));
  });

  test('the config section: loopback by default, bad blocks refused', () => {
    assert.deepEqual(MonitoringConfigSchema.parse({}), { allow: ['127.0.0.0/8', '::1/128'], drainSeconds: 0, metrics: true });
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'example.com', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x']) {
      assert.equal(MonitoringConfigSchema.safeParse({ allow: [bad] }).success, false, bad);
    }
  });
});
